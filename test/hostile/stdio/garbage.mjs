// A stdio "server" that writes garbage to stdout and never a JSON-RPC message.
const junk = () => process.stdout.write('\x00\xff not json {{{ ]]] \u2603\n');
junk();
setInterval(junk, 20);
process.stdin.resume();
