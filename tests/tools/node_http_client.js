// Preloaded-side HTTP client (node's http.get, no keep-alive): fetches
// http://HOST:PORT/small/<i> COUNT times one after the other, then /big
// once; prints "COUNT small ok" (or the first mismatch) and the sha256 of
// /big. usage: node node_http_client.js HOST PORT COUNT
const crypto = require('crypto');
const http = require('http');

const [host, port, count] = process.argv.slice(2);

function get(path) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host, port: Number(port), path, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
        });
        req.setTimeout(10000, () => req.destroy(new Error(`timeout on ${path}`)));
        req.on('error', reject);
    });
}

(async () => {
    for (let i = 0; i < Number(count); i++) {
        const body = (await get(`/small/${i}`)).toString();
        if (body !== `small /small/${i}\n`) {
            console.log(`request ${i}: got ${JSON.stringify(body)}`);
            process.exit(1);
        }
    }
    console.log(`${count} small ok`);
    const big = await get('/big');
    console.log(crypto.createHash('sha256').update(big).digest('hex'));
})().catch((e) => {
    console.log(`error: ${e.message}`);
    process.exit(1);
});
