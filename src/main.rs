fn main() {
    println!("orch");
}
