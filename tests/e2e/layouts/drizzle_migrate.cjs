// drizzle_migrate.cjs — the reference for the Drizzle layout: drizzle-orm's own
// migrator (on sql.js, SQLite compiled to WebAssembly) applies a Drizzle folder
// to an empty database, written to a file.
// Usage: node drizzle_migrate.cjs NPM_PREFIX FOLDER OUTPUT_DB
const { createRequire } = require('node:module');
const fs = require('node:fs');
const [prefix, folder, out] = process.argv.slice(2);
const req = createRequire(require('node:path').resolve(prefix) + '/');
const initSqlJs = req('sql.js');
const { drizzle } = req('drizzle-orm/sql-js');
const { migrate } = req('drizzle-orm/sql-js/migrator');
initSqlJs().then((SQL) => {
    const sqlite = new SQL.Database();
    migrate(drizzle(sqlite), { migrationsFolder: folder });
    fs.writeFileSync(out, Buffer.from(sqlite.export()));
}).catch((e) => { console.error(e); process.exit(1); });
