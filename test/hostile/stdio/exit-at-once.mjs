// A stdio "server" that exits at once with an error.
process.stderr.write('fatal: cannot start\n');
process.exit(3);
