fn main() { print!("{}", ferry::plan::schema::plan_schema_text()); }
