// A real OpenID provider for the test suite: oidc-provider (npm) with a test account store,
// login and consent pages, and a control channel (tests/servers/oidc.py drives it).
//
//   node oidc_launcher.mjs '<json config>'
//
// config: {"host": "127.0.0.1", "port": N,
//          "clients": [{"client_id", "client_secret", "redirect_uris", ...,
//                       "access_token_ttl": seconds}],
//          "users": [{"sub", "email", "password"}]}
//
// What is switched on beyond oidc-provider's defaults: PKCE required for every client, refresh
// tokens rotated on every use, token introspection (the answer carries the user's `email`, which
// Dovecot's oauth2 passdb maps to the mailbox) and revocation. Access tokens are opaque; their
// TTL is per client (`access_token_ttl`, else an hour), so a test that needs expiry registers a
// client of its own instead of changing one the session shares.
//
// The login and consent pages are ours, not oidc-provider's devInteractions: those accept any
// login with any password. Ours check the password and show the consent prompt (Allow / Deny),
// as plain HTML forms a browser or an HTTP client can walk.
//
// Control channel: one JSON object per line on stdin, one JSON answer per line on stdout
// ({"ok": true, ...} or {"ok": false, "error": "..."}); the first line out is {"ready": true}.
// The launcher exits when stdin closes.

import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

// stdout is the control channel: oidc-provider's notices (console.info) go to stderr.
console.log = console.error;
console.info = console.error;

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "node", "node_modules", "oidc-provider", "lib", "index.js");
const { default: Provider } = await import(pathToFileURL(entry).href);

const config = JSON.parse(process.argv[2] || "{}");
const issuer = `http://${config.host}:${config.port}`;

const usersBySub = new Map();
const usersByEmail = new Map();
function addUser(user) {
    usersBySub.set(user.sub, user);
    usersByEmail.set(user.email.toLowerCase(), user);
}
(config.users || []).forEach(addUser);

// Client metadata as RFC 7591 names it; `access_token_ttl` is ours and stays here.
const accessTokenTTL = new Map();
function clientMetadata(spec) {
    const { access_token_ttl: ttl, ...metadata } = spec;
    if (ttl) {
        accessTokenTTL.set(metadata.client_id, ttl);
    }
    return {
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
        ...metadata,
    };
}

// Grants given on the consent page, per account, so the control channel can withdraw them.
const grants = new Map(); // sub -> Map(grantId -> clientId)

const provider = new Provider(issuer, {
    clients: (config.clients || []).map(clientMetadata),
    scopes: ["openid", "email", "offline_access"],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    async findAccount(ctx, sub) {
        const user = usersBySub.get(sub);
        if (!user) {
            return undefined;
        }
        return {
            accountId: sub,
            async claims() {
                return { sub, email: user.email, email_verified: true };
            },
        };
    },
    // Introspection answers carry these, so a resource server maps a token to a mailbox.
    async extraTokenClaims(ctx, token) {
        const user = token.accountId ? usersBySub.get(token.accountId) : undefined;
        return user ? { email: user.email, username: user.email } : undefined;
    },
    features: {
        devInteractions: { enabled: false },
        introspection: { enabled: true },
        revocation: { enabled: true },
    },
    pkce: { required: () => true },
    rotateRefreshToken: () => true,
    ttl: {
        AccessToken: (ctx, token, client) => accessTokenTTL.get(client.clientId) || 3600,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 600,
        Session: 3600,
        Grant: 14 * 24 * 3600,
        RefreshToken: 14 * 24 * 3600,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ["imapapi-test-cookie-key"] },
    // Errors shown to the user (a bad authorization request) as a page the walk can report.
    renderError(ctx, out) {
        ctx.type = "html";
        ctx.body = page("Error", `<p id="error">${escape(out.error)}: ${escape(out.error_description || "")}</p>`);
    },
});
provider.proxy = false;

// -- the login and consent pages ---------------------------------------------------------

function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
    return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head>`
        + `<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, params, error) {
    const hint = params.login_hint ? ` value="${escape(params.login_hint)}"` : "";
    return page("Sign in", (error ? `<p id="error">${escape(error)}</p>` : "")
        + `<form id="login-form" method="post" action="/interaction/${uid}/login">`
        + `<label>Email <input type="email" name="email" required${hint}></label>`
        + `<label>Password <input type="password" name="password" required></label>`
        + `<button type="submit">Sign in</button></form>`);
}

function consentPage(uid, client, params, details) {
    const scopes = (details.missingOIDCScope || []).map((s) => `<li>${escape(s)}</li>`).join("");
    return page("Authorize", `<p id="consent">${escape(client.clientName || client.clientId)}`
        + ` asks for access to your account:</p><ul id="scopes">${scopes}</ul>`
        + `<form id="consent-form" method="post" action="/interaction/${uid}/confirm">`
        + `<button type="submit">Allow</button></form>`
        + `<form id="deny-form" method="post" action="/interaction/${uid}/abort">`
        + `<button type="submit">Deny</button></form>`);
}

async function readForm(req) {
    const chunks = [];
    for await (const chunk of req) {
        chunks.push(chunk);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function giveConsent(ctx, details) {
    const { prompt, grantId, session, params } = details;
    const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) {
        grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    }
    if (prompt.details.missingOIDCClaims) {
        grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    }
    const saved = await grant.save();
    if (!grants.has(session.accountId)) {
        grants.set(session.accountId, new Map());
    }
    grants.get(session.accountId).set(saved, params.client_id);
    return { consent: { grantId: saved } };
}

async function interaction(ctx, uid, action) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) {
        ctx.throw(400, "interaction mismatch");
    }
    const { prompt, params } = details;
    if (ctx.method === "GET" && !action) {
        const client = await provider.Client.find(params.client_id);
        ctx.type = "html";
        ctx.body = prompt.name === "login"
            ? loginPage(uid, params)
            : consentPage(uid, client, params, prompt.details);
        return;
    }
    if (ctx.method !== "POST") {
        ctx.throw(405);
    }
    if (action === "login") {
        const form = await readForm(ctx.req);
        const user = usersByEmail.get((form.get("email") || "").toLowerCase());
        if (!user || user.password !== form.get("password")) {
            ctx.status = 401;
            ctx.type = "html";
            ctx.body = loginPage(uid, params, "Wrong email or password");
            return;
        }
        await provider.interactionFinished(ctx.req, ctx.res,
            { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    } else if (action === "confirm") {
        const result = await giveConsent(ctx, details);
        await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    } else if (action === "abort") {
        await provider.interactionFinished(ctx.req, ctx.res,
            { error: "access_denied", error_description: "End-User denied the request" },
            { mergeWithLastSubmission: false });
    } else {
        ctx.throw(404);
    }
    ctx.respond = false; // interactionFinished wrote the redirect itself
}

provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)(?:\/([a-z]+))?$/.exec(ctx.path);
    if (!match) {
        return next();
    }
    ctx.set("cache-control", "no-store");
    return interaction(ctx, match[1], match[2]);
});

// -- control channel ---------------------------------------------------------------------

async function revokeGrants({ email, client_id: clientId }) {
    const user = usersByEmail.get(String(email).toLowerCase());
    if (!user) {
        throw new Error(`no user ${email}`);
    }
    const given = grants.get(user.sub) || new Map();
    let revoked = 0;
    for (const [grantId, grantClient] of given) {
        if (clientId && grantClient !== clientId) {
            continue;
        }
        // The grant's tokens go too: the refresh token's next use is invalid_grant, and the
        // access tokens introspect as inactive.
        const grant = await provider.Grant.find(grantId);
        await provider.Grant.adapter.revokeByGrantId(grantId);
        if (grant) {
            await grant.destroy();
            revoked += 1; // not counted: one revoked already (a reused refresh token does it)
        }
        given.delete(grantId);
    }
    return { revoked };
}

const ops = {
    async add_client({ client }) {
        const metadata = clientMetadata(client);
        await provider.Client.adapter.upsert(metadata.client_id, metadata);
        await provider.Client.find(metadata.client_id); // validates the metadata now
        return {};
    },
    async add_user({ user }) {
        if (usersByEmail.has(user.email.toLowerCase())) {
            throw new Error(`user ${user.email} exists already`);
        }
        addUser(user);
        return {};
    },
    revoke_grants: revokeGrants,
};

const server = provider.listen(config.port, config.host, () => {
    process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
});

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
    let answer;
    try {
        const { op, ...args } = JSON.parse(line);
        if (!ops[op]) {
            throw new Error(`unknown op ${op}`);
        }
        answer = { ok: true, ...(await ops[op](args)) };
    } catch (err) {
        answer = { ok: false, error: String(err && err.message ? err.message : err) };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on("close", () => {
    server.close();
    process.exit(0);
});
