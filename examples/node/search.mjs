// minirank in Node (>= 18), as an ES module: the models load from the package's files, no fetch.
//   npm install minirank && node search.mjs
// Prints the ids of the top 5 hits of each seed question as JSON.
import { Minirank } from 'minirank';
import { searchSeed } from './shared/app.js';

const mr = await Minirank.load();
console.log(JSON.stringify(await searchSeed(mr)));
mr.free();
