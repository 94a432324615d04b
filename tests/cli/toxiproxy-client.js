// Drives Streamgate's Toxiproxy API with Toxiproxy's own Node client (toxiproxy-node-client),
// as an application's test suite would. Usage: node toxiproxy-client.js URL 'STEPS'
// STEPS is a JSON array of {"op": ..., ...}; each step prints one JSON line: {"ok": true, ...}
// with what the client returned, or {"ok": false, "error": "..."}.
"use strict";
const { Toxiproxy } = require("toxiproxy-node-client");

async function run(toxiproxy, step) {
    switch (step.op) {
    case "version":
        return { version: JSON.parse(await toxiproxy.getVersion()).version };
    case "create":
        return { proxy: (await toxiproxy.createProxy(step.body)).toJson() };
    case "get":
        return { proxy: (await toxiproxy.get(step.proxy)).toJson() };
    case "getAll": {
        const all = await toxiproxy.getAll();
        return { names: Object.keys(all).sort() };
    }
    case "updateProxy":
        return { proxy: (await (await toxiproxy.get(step.proxy)).update(step.body)).toJson() };
    case "removeProxy":
        await (await toxiproxy.get(step.proxy)).remove();
        return {};
    case "addToxic":
        return { toxic: (await (await toxiproxy.get(step.proxy)).addToxic(step.body)).toJson() };
    case "updateToxic": {
        const toxic = await (await toxiproxy.get(step.proxy)).getToxic(step.toxic);
        return { toxic: (await toxic.update(step.body)).toJson() };
    }
    case "removeToxic":
        await (await (await toxiproxy.get(step.proxy)).getToxic(step.toxic)).remove();
        return {};
    case "populate": {
        const proxies = await toxiproxy.populate(step.body);
        return { names: Object.keys(proxies).sort() };
    }
    case "reset":
        await toxiproxy.reset();
        return {};
    default:
        throw new Error("unknown op " + step.op);
    }
}

(async () => {
    const toxiproxy = new Toxiproxy(process.argv[2]);
    for (const step of JSON.parse(process.argv[3])) {
        try {
            console.log(JSON.stringify(Object.assign({ ok: true }, await run(toxiproxy, step))));
        } catch (e) {
            console.log(JSON.stringify({ ok: false, error: String(e && e.message || e) }));
        }
    }
})();
