// A real OpenID Provider for the tests: the certified `oidc-provider` package (npm),
// on loopback, with its development sign-in form (any login; the password is not
// checked). Settings come from a JSON file named by the first argument:
//   { "port": 0, "client_id": "...", "client_secret": "...", "redirect_uris": [...],
//     "post_logout_redirect_uris": [...], "jwks": {"keys": [private JWKs]},
//     "accounts": {"login": {"email": ..., "email_verified": true, "name": ...}} }
// It prints its issuer URL on the first line once it listens.
//
// Misbehaviour, for the negative tests, is switched at run time by
// POST /__test__/misbehave with a JSON body {"mode": ...}: the token endpoint's
// ID token is then re-signed with `wrong_audience`, `expired` (issued and expired
// ten minutes ago), `foreign_key` (the right key id, another key: a bad signature)
// or `unsigned` (alg "none"); "" restores honest answers. The accounts can be
// replaced the same way: POST /__test__/accounts.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let accounts = settings.accounts || {};
let mode = '';

const host = '127.0.0.1';
const port = settings.port || 0;

function claimsFor(login) {
  const known = accounts[login];
  return known ? { ...known } : { email: login, email_verified: true, name: login };
}

async function start() {
  // Listen first to learn the port, then build the provider for that issuer.
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, host, resolve));
  const issuer = `http://${host}:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: settings.redirect_uris,
      post_logout_redirect_uris: settings.post_logout_redirect_uris || [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: settings.jwks,
    cookies: { keys: ['a test provider signs its cookies with this'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    pkce: { required: () => true },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...claimsFor(id) }),
    }),
    // First-party client: no consent screen (a company's own tool).
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });

  const signingKey = await jose.importJWK(settings.jwks.keys[0], 'RS256');
  const kid = settings.jwks.keys[0].kid;
  const foreign = await jose.generateKeyPair('RS256');

  async function tamper(idToken) {
    const claims = jose.decodeJwt(idToken);
    const now = Math.floor(Date.now() / 1000);
    if (mode === 'unsigned') {
      return new jose.UnsecuredJWT(claims).encode();
    }
    let key = signingKey;
    if (mode === 'wrong_audience') claims.aud = 'another-application';
    if (mode === 'expired') { claims.iat = now - 3600; claims.exp = now - 600; }
    if (mode === 'foreign_key') key = foreign.privateKey;
    return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
  }

  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/__test__/') && ctx.method === 'POST') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      if (ctx.path === '/__test__/misbehave') mode = body.mode || '';
      if (ctx.path === '/__test__/accounts') accounts = body.accounts || {};
      ctx.body = { mode, accounts: Object.keys(accounts).length };
      return;
    }
    await next();
    if (mode && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token) };
    }
  });

  server.on('request', provider.callback());
  process.stdout.write(`${issuer}\n`);
}

start().catch((err) => { console.error(err); process.exit(1); });
