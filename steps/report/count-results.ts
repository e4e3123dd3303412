// Prints "N passed, N failed" for a cucumber run, from its own message stream.
import { readMessages, verdicts } from './messages';

const path = process.argv[2] ?? 'reports/cucumber.ndjson';
const all = [...verdicts(readMessages(path)).values()];
const passed = all.filter((status) => status === 'PASSED').length;
console.log(`${passed} passed, ${all.length - passed} failed`);
