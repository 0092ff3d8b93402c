"use strict";
// A Gmail-like IMAP server for the test suite: hoodiecrow-imap (npm) started with what it lacks
// out of the box (tests/servers/hoodiecrow.py drives it).
//
//   node hoodiecrow_launcher.js '<json config>'
//
// config: {"port": N, "host": "127.0.0.1", "users": {"name": {"password": "…",
//          "accessToken": "…"}}, "plugins": [...]}
//
// Known gaps of hoodiecrow-imap 2.1.0 filled here:
// - its X-GM-EXT-1 plugin serves X-GM-MSGID / X-GM-LABELS but never advertises the capability,
//   so `registerCapability("X-GM-EXT-1")` below;
// - its default storage has no `[Gmail]/All Mail`, so a Gmail-shaped tree is passed with `\All`,
//   `\Junk`, `\Trash`, `\Sent`, `\Drafts`, `\Flagged`, `\Important` folders;
// - it labels a message with its folder's special-use flag, which Gmail does not do for All Mail
//   (`\All` is never a label) and names differently for Spam/Starred, so that is corrected;
// - it sends every label as an atom; Gmail quotes labels that are not atoms ("My label").
// - it has no X-GM-THRID ("have to figure out threading first"): served here from the thread
//   id given when a message is added through the control channel; else, as Gmail threads a
//   delivered or APPENDed reply, the thread of the message its References / In-Reply-To names
//   (by Message-ID, in any folder) when their subjects match without Re:/Fwd:; else the message's own X-GM-MSGID (a thread of one, as
//   Gmail numbers a new thread after its first message). `SEARCH X-GM-THRID n` finds a thread.
// Still missing (not worth faking): X-GM-RAW, QRESYNC, COMPRESS, and the link between a label
// and a folder (a message labelled \Inbox is not in INBOX). Its STORE never notifies other
// connections, so the control command "labels" can send the untagged FETCH itself.
//
// Control channel: one JSON object per line on stdin, one JSON answer per line on stdout
// ({"ok": true, ...} or {"ok": false, "error": "..."}); the first line out is {"ready": true}.

const path = require("path");
const readline = require("readline");
const hoodiecrow = require(path.join(__dirname, "node", "node_modules", "hoodiecrow-imap"));

const config = JSON.parse(process.argv[2] || "{}");

const DEFAULT_PLUGINS = [
    "ID", "IDLE", "NAMESPACE", "ENABLE", "CONDSTORE", "UNSELECT", "UIDPLUS", "MOVE",
    "SPECIAL-USE", "SASL-IR", "AUTH-PLAIN", "XOAUTH2", "X-GM-EXT-1",
];
// Gmail's names for the labels of its special folders (Gmail IMAP extensions doc).
const LABEL_OF_FLAG = {"\\All": null, "\\Junk": "\\Spam", "\\Flagged": "\\Starred"};

function users(spec) {
    const out = {};
    Object.keys(spec || {}).forEach((name) => {
        out[name] = userRecord(spec[name]);
    });
    return out;
}

function userRecord(entry) {
    const record = {password: entry.password || null};
    if (entry.accessToken) {
        record.xoauth2 = {accessToken: entry.accessToken, sessionTimeout: 3600 * 1000};
    }
    return record;
}

function gmailStorage() {
    return {
        "INBOX": {},
        "": {
            "separator": "/",
            "folders": {
                "[Gmail]": {
                    "flags": ["\\Noselect"],
                    "folders": {
                        "All Mail": {"special-use": "\\All"},
                        "Drafts": {"special-use": "\\Drafts"},
                        "Important": {"special-use": "\\Important"},
                        "Sent Mail": {"special-use": "\\Sent"},
                        "Spam": {"special-use": "\\Junk"},
                        "Starred": {"special-use": "\\Flagged"},
                        "Trash": {"special-use": "\\Trash"},
                    },
                },
            },
        },
    };
}

const server = hoodiecrow({
    plugins: config.plugins || DEFAULT_PLUGINS,
    id: {name: "hoodiecrow", vendor: "imapapi tests"},
    users: users(config.users),
    storage: gmailStorage(),
});

const gmail = (config.plugins || DEFAULT_PLUGINS).indexOf("X-GM-EXT-1") >= 0;
if (gmail) {
    server.registerCapability("X-GM-EXT-1");

    // Runs after the plugin's own handler (registered when the plugin loaded).
    server.messageHandlers.push((connection, message) => {
        message["X-GM-LABELS"] = message["X-GM-LABELS"]
            .map((label) => (label in LABEL_OF_FLAG ? LABEL_OF_FLAG[label] : label))
            .filter((label) => label !== null);
    });

    server.fetchHandlers["X-GM-LABELS"] = (connection, message) =>
        message["X-GM-LABELS"].map(labelValue);

    // Runs after the plugin's handler gave the message its X-GM-MSGID.
    server.messageHandlers.push((connection, message) => {
        if (!message["X-GM-THRID"]) {
            const parent = findParent(message);
            if (parent) {
                message["X-GM-THRID"] = threadOf(parent);
            }
        }
    });

    server.fetchHandlers["X-GM-THRID"] = (connection, message) => ({
        type: "ATOM",
        value: threadOf(message),
    });

    // Four parameters: hoodiecrow reads the handler's arity to take one search value.
    server.searchHandlers["X-GM-THRID"] = (connection, message, index, value) =>
        String(threadOf(message)) === String(value);
}

function threadOf(message) {
    return message["X-GM-THRID"] || message["X-GM-MSGID"];
}

function headerValue(raw, name) {
    const head = String(raw || "").split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ");
    const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(name + ":"));
    return line ? line.slice(name.length + 1).trim() : "";
}

// The "<id>"s of one header field of a raw message (its first occurrence, unfolded).
function headerIds(raw, name) {
    return headerValue(raw, name).match(/<[^<>\s]+>/g) || [];
}

// Gmail groups a message with one it references only when their subjects match too, once
// reply and forward prefixes are stripped.
function baseSubject(raw) {
    return headerValue(raw, "subject").replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, "").toLowerCase();
}

// A message, in any folder, whose Message-ID the message's References or In-Reply-To names.
function findParent(message) {
    const named = headerIds(message.raw, "references").concat(headerIds(message.raw, "in-reply-to"));
    if (!named.length) {
        return null;
    }
    const subject = baseSubject(message.raw);
    for (const box of Object.values(server.folderCache)) {
        for (const other of box.messages || []) {
            const id = headerIds(other.raw, "message-id")[0];
            if (other !== message && id && named.indexOf(id) >= 0 && baseSubject(other.raw) === subject) {
                return other;
            }
        }
    }
    return null;
}

function labelValue(label) {
    // RFC 3501 atom-chars, plus the leading "\" of system labels (a flag-like atom).
    return /^\\?[^\s(){%*"\\\]\x00-\x1f\x7f]+$/.test(label)
        ? {type: "ATOM", value: label}
        : {type: "STRING", value: label};
}

function mailbox(name) {
    const box = server.getMailbox(name || "[Gmail]/All Mail");
    if (!box) {
        throw new Error("no such mailbox: " + name);
    }
    return box;
}

function findMessage(box, uid) {
    const index = box.messages.findIndex((m) => m.uid === uid);
    if (index < 0) {
        throw new Error("no message with UID " + uid + " in " + box.path);
    }
    return {index: index, message: box.messages[index]};
}

function describe(message) {
    return {
        uid: message.uid,
        flags: message.flags,
        labels: message["X-GM-LABELS"] || null,
        msgid: message["X-GM-MSGID"] || null,
        thrid: threadOf(message) || null,
    };
}

const handlers = {
    // Deliver a message (notifies connections that have the folder selected with EXISTS).
    append(cmd) {
        const box = mailbox(cmd.path);
        const date = cmd.internaldate ? new Date(cmd.internaldate) : new Date();
        const added = server.appendMessage(box, cmd.flags || [], date, cmd.raw);
        if (cmd.labels) {
            added.message["X-GM-LABELS"] = [].concat(cmd.labels);
        }
        if (cmd.thread) {
            added.message["X-GM-THRID"] = String(cmd.thread);
        }
        return describe(added.message);
    },

    // Replace a message's labels, as Gmail's web UI would; with "notify", connections that have
    // the folder selected get the untagged FETCH Gmail sends for a label change.
    labels(cmd) {
        const box = mailbox(cmd.path);
        const found = findMessage(box, cmd.uid);
        found.message["X-GM-LABELS"] = [].concat(cmd.labels);
        if (cmd.notify) {
            server.notify({
                tag: "*",
                attributes: [
                    found.index + 1,
                    {type: "ATOM", value: "FETCH"},
                    [
                        {type: "ATOM", value: "UID"}, found.message.uid,
                        {type: "ATOM", value: "X-GM-LABELS"},
                        found.message["X-GM-LABELS"].map(labelValue),
                        {type: "ATOM", value: "FLAGS"},
                        found.message.flags.map((flag) => ({type: "ATOM", value: flag})),
                    ],
                ],
            }, box);
        }
        return describe(found.message);
    },

    messages(cmd) {
        return {messages: mailbox(cmd.path).messages.map(describe)};
    },

    // Add or change a user: a new access token makes the old one fail (a revoked token).
    user(cmd) {
        server.users[cmd.name] = userRecord(cmd);
        return {};
    },
};

function answer(reply) {
    process.stdout.write(JSON.stringify(reply) + "\n");
}

readline.createInterface({input: process.stdin}).on("line", (line) => {
    let cmd;
    try {
        cmd = JSON.parse(line);
        const handler = handlers[cmd.op];
        if (!handler) {
            throw new Error("unknown op " + cmd.op);
        }
        answer(Object.assign({ok: true}, handler(cmd)));
    } catch (err) {
        answer({ok: false, error: String(err && err.message || err)});
    }
}).on("close", () => process.exit(0)); // the test process went away: so do we

server.server.on("error", (err) => {
    process.stderr.write("hoodiecrow: " + err.stack + "\n");
    process.exit(1);
});
server.listen(config.port, config.host || "127.0.0.1", () => answer({ready: true}));
