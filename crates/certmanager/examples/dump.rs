fn main() {
    let path = std::env::args().nth(1).unwrap();
    match acme_token_certmanager::load_paths(&[path.into()]) {
        Ok(inv) => println!("{}", serde_json::to_string_pretty(&inv).unwrap()),
        Err(e) => println!("ERROR: {e}"),
    }
}
