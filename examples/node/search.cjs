// minirank from CommonJS: `require('minirank')` (Node >= 20.19 and 22.12 load ES modules with
// require; on older Node use `const { Minirank } = await import('minirank')`).
//   npm install minirank && node search.cjs
const { Minirank } = require('minirank');

(async () => {
  const { searchSeed } = await import('./shared/app.js');
  const mr = await Minirank.load();
  console.log(JSON.stringify(await searchSeed(mr)));
  mr.free();
})();
