// For `ajv --strict=true` in scripts/schema-validators.sh: the plan schema's one keyword that
// JSON Schema does not define, `defaultSnippets`, is an annotation for the YAML language server
// (completion snippets). Declared here, it validates nothing and strict mode accepts it.
module.exports = (ajv) => ajv.addKeyword({ keyword: "defaultSnippets", schemaType: "array" });
