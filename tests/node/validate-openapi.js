// Validates an OpenAPI 3 document (a file, or stdin) against the specification's schema
// with @apidevtools/swagger-parser; prints "valid" or the errors and exits 1.
const SwaggerParser = require("@apidevtools/swagger-parser");
const fs = require("fs");
const text = fs.readFileSync(process.argv[2] || 0, "utf8");
SwaggerParser.validate(JSON.parse(text))
  .then(() => console.log("valid"))
  .catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
