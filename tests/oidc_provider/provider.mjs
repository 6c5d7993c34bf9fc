// A real OpenID provider for the tests: node-oidc-provider (pinned in tools/package.json)
// with its built-in development login and consent pages.
//
//   node tests/oidc_provider/provider.mjs <port> <issuer> '<clients JSON>'
//
// or the same through OIDC_PORT, OIDC_ISSUER and OIDC_CLIENTS.  The clients JSON is one
// client or a list of them: {"client_id": ..., "client_secret": ..., "redirect_uris": [...]}.
// Any login name is accepted (the password is ignored) and becomes the subject; the email
// claim is the login name if it contains "@", otherwise "<login>@police.demo", and it is
// always verified.  Prints "READY <issuer>" once listening; stops on SIGTERM or SIGINT.
//
// oidc-provider is looked up in tools/node_modules (set OIDC_PROVIDER_TOOLS to another
// folder holding a node_modules with it).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The test suite's clock (tests/clock/sitecustomize.py): with PORTAL_TEST_CLOCK set, the provider
// reads the same moved time as the portal and the tests, so its tokens and cookies agree with them.
const movedClock = process.env.PORTAL_TEST_CLOCK;
if (movedClock) {
  const at = movedClock.lastIndexOf('@');
  const offset = Date.parse(movedClock.slice(0, at)) - Number(movedClock.slice(at + 1)) * 1000;
  const RealDate = Date;
  globalThis.Date = class MovedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }

    static now() {
      return RealDate.now() + offset;
    }
  };
}

const here = dirname(fileURLToPath(import.meta.url));
const toolsDir = resolve(process.env.OIDC_PROVIDER_TOOLS || join(here, '..', '..', 'tools'));
const requireFromTools = createRequire(join(toolsDir, 'package.json'));
const { default: Provider } = await import(pathToFileURL(requireFromTools.resolve('oidc-provider')).href);

const [argPort, argIssuer, argClients] = process.argv.slice(2);
const port = Number(argPort || process.env.OIDC_PORT || 0);
const host = process.env.OIDC_HOST || '127.0.0.1';
const issuer = (argIssuer || process.env.OIDC_ISSUER || `http://${host}:${port}`).replace(/\/$/, '');
const clientsInput = JSON.parse(argClients || process.env.OIDC_CLIENTS || '[]');
const clients = (Array.isArray(clientsInput) ? clientsInput : [clientsInput]).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...client,
}));
if (!port) {
  console.error('usage: provider.mjs <port> <issuer> <clients JSON>');
  process.exit(2);
}

// Fresh signing key and cookie keys for every run: nothing here is meant to last.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

function emailFor(login) {
  return login.includes('@') ? login : `${login}@police.demo`;
}

const configuration = {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
  },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        const email = emailFor(sub);
        return { sub, email, email_verified: true, name: `Test ${email.split('@')[0]}` };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, error) => console.error('server_error', error));

const server = provider.listen(port, host, () => {
  console.log(`READY ${issuer}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
