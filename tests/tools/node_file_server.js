// An HTTP server (node's http module) at ADDR PORT: /big streams FILE
// (fs.createReadStream piped into the response), any other path answers
// "small <path>\n". Prints "listening" once clients may connect.
// usage: node node_file_server.js ADDR PORT FILE
const fs = require('fs');
const http = require('http');

const [addr, port, file] = process.argv.slice(2);
const server = http.createServer((req, res) => {
    if (req.url === '/big') {
        res.writeHead(200, { 'Content-Length': fs.statSync(file).size });
        fs.createReadStream(file).pipe(res);
    } else {
        res.end(`small ${req.url}\n`);
    }
});
server.listen(Number(port), addr, () => console.log('listening'));
