// A net server at ADDR PORT that, on a connection's first data, writes
// "bye\n" and destroys the socket (libuv closes the fd). Prints
// "listening" once clients may connect.
// usage: node node_destroy_server.js ADDR PORT
const net = require('net');

const [addr, port] = process.argv.slice(2);
const server = net.createServer((socket) => {
    socket.once('data', () => {
        socket.write('bye\n');
        socket.destroy();
    });
});
server.listen(Number(port), addr, () => console.log('listening'));
