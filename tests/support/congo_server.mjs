// Start CongoDB (MongoDB wire protocol, in memory) for the contract tests.
// Usage: node congo_server.mjs <path to congodb/index.js> <port>
const [entry, port] = process.argv.slice(2);
const { CongoServer } = await import(entry);
const server = new CongoServer({ port: Number(port), host: "127.0.0.1", storage: "memory" });
await server.start();
console.log(`ready ${port}`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
