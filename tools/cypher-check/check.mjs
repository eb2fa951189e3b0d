#!/usr/bin/env node
// Check Cypher statement files offline with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support, pinned in package.json).
//
//   node tools/cypher-check/check.mjs FILE_OR_DIR...
//
// Each file must hold exactly one statement behind a header comment that ends with
//   // Parameters: none
// or
//   // Parameters:
//   //   $name  what it is
// Reported, as FILE:LINE:COLUMN, and failing the check:
//   - syntax errors and semantic errors (undefined variables, type errors, unknown
//     procedures, functions or procedure outputs) under Cypher 5 and Cypher 25;
//   - a parameter the statement uses but the header does not declare, or the reverse;
//   - a file without that header, or with more or fewer than one statement.
// Procedures and functions are checked against the registry of a Neo4j server with the
// Graph Data Science and APOC plugins that ships with the package (testData.mockSchema); the
// keys inside a configuration map (gamma, theta, ...) are not checked by anything offline.
// Exit status: 0 clean, 1 findings, 2 usage error.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  lintCypherQuery,
  parseParameters,
  parseStatementsStrs,
  testData,
} from '@neo4j-cypher/language-support';

const CYPHER_VERSIONS = ['CYPHER 5', 'CYPHER 25'];
const ERROR = 1; // DiagnosticSeverity.Error
const UNDECLARED_PARAMETER = /^Parameter \$(\S+) is not defined\.$/;
const { functions, procedures } = testData.mockSchema;

function cypherFiles(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((name) => name.endsWith('.cypher'))
      .sort()
      .map((name) => join(path, name));
  }
  return [path];
}

// Parameters declared in the leading comment block, or null when it has no Parameters line.
function declaredParameters(text) {
  const header = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    header.push(line);
  }
  const at = header.findIndex((line) => /^\/\/\s*Parameters:/.test(line));
  if (at < 0) return null;
  if (/^\/\/\s*Parameters:\s*none\s*$/.test(header[at])) return { names: new Set(), line: at };
  const names = new Set();
  for (const line of header.slice(at + 1)) {
    const match = /^\/\/\s+\$([A-Za-z_][A-Za-z0-9_]*)/.exec(line);
    if (match) names.add(match[1]);
  }
  return { names, line: at };
}

function lint(text, parameters, version) {
  return lintCypherQuery(
    text,
    { functions, procedures, parameters, defaultLanguage: version },
    { consoleCommandsEnabled: false },
  ).diagnostics;
}

function checkFile(file) {
  const findings = [];
  const at = (line, column, message) => findings.push({ line: line + 1, column: column + 1, message });
  const text = readFileSync(file, 'utf8');

  const statements = parseStatementsStrs(text);
  if (statements.length !== 1) {
    at(0, 0, `expected exactly one statement, found ${statements.length}`);
  }
  const declared = declaredParameters(text);
  if (declared === null) {
    at(0, 0, 'header comment has no "// Parameters:" line (write "// Parameters: none" if there are none)');
    return findings;
  }

  const used = new Set(parseParameters(text, false));
  for (const name of declared.names) {
    if (!used.has(name)) at(declared.line, 0, `parameter $${name} is declared in the header but not used`);
  }

  const parameters = Object.fromEntries([...declared.names].map((name) => [name, null]));
  const errors = new Map(); // one entry per position and message, with the versions it fails
  for (const version of CYPHER_VERSIONS) {
    for (const d of lint(text, parameters, version)) {
      if (d.severity !== ERROR) continue;
      const message = UNDECLARED_PARAMETER.test(d.message)
        ? `${d.message.replace(' is not defined.', '')} is used but not declared in the header`
        : d.message;
      const key = JSON.stringify([d.range.start.line, d.range.start.character, message]);
      errors.set(key, [...(errors.get(key) ?? []), version]);
    }
  }
  for (const [key, versions] of errors) {
    const [line, column, message] = JSON.parse(key);
    at(line, column, `${message} [${versions.join(', ')}]`);
  }
  return findings;
}

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error('usage: node check.mjs FILE_OR_DIR...');
  process.exit(2);
}
let files;
try {
  files = paths.flatMap(cypherFiles);
} catch (error) {
  console.error(`cypher-check: ${error.message}`);
  process.exit(2);
}
if (files.length === 0) {
  console.error(`cypher-check: no .cypher file in ${paths.join(' ')}`);
  process.exit(2);
}

let failed = 0;
for (const file of files) {
  const findings = checkFile(file);
  if (findings.length) failed += 1;
  for (const f of findings) console.log(`${file}:${f.line}:${f.column}: error: ${f.message}`);
}
console.log(
  `cypher-check: ${files.length} file(s) checked with Cypher 5 and Cypher 25, ` +
    `${failed} with errors`,
);
process.exit(failed ? 1 : 0);
