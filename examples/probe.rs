fn show(e: &jsonschema::ValidationError, depth: usize) {
    println!("{}inst={} schema={} eval={} kind={:?}", " ".repeat(depth*2), e.instance_path().as_str(), e.schema_path().as_str(), e.evaluation_path().as_str(), match e.kind() { jsonschema::error::ValidationErrorKind::AnyOf{..} | jsonschema::error::ValidationErrorKind::OneOfNotValid{..} => "ANYOF/ONEOF".to_string(), k => format!("{k:?}")});
    match e.kind() {
        jsonschema::error::ValidationErrorKind::AnyOf{context} | jsonschema::error::ValidationErrorKind::OneOfNotValid{context} => for (i, branch) in context.iter().enumerate() { println!("{}branch {i}", " ".repeat(depth*2+2)); for x in branch { show(x, depth+2) } },
        _ => {}
    }
}
fn main() {
    let v: serde_json::Value = serde_json::json!({
        "version": 2, "sourcs": {},
        "sources": {"a": {"ip": "300.1.1.1", "credentials": {"username": "", "password": {"env": ""}, "extra": 1}, "mountpoints": [{"name": "C:\\", "size": "40 GB"}, {"name": "D", "size": 0}, {"name":"E", "size": "lots"}], "connection": {"sftp": {"prot": 22}}},
                    "b": {"ip": "", "credentials": {"password": "x"}, "connection": {"lokal": {"path": "x"}}}},
        "targets": {"t": {"cloud": "AWS", "credentials": {"username": "u", "password": 5}, "vm": []}},
        "migrations": [{"source": "a", "target": "t", "mounts": []}, {"source": "a"}, "x"]
    });
    let validator = ferry::plan::schema::validator();
    for e in validator.iter_errors(&v) { show(&e, 0); }
}
