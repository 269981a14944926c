//! A greeting, shouted by a proc macro, stamped by a build script.

/// `"HELLO, <name>! (built for <target>)"`.
pub fn greet(name: &str) -> String {
    format!(
        "{}, {name}! (built for {})",
        greeting_macros::shout!("hello"),
        env!("GREETING_TARGET")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn shouts() {
        assert!(super::greet("you").starts_with("HELLO, you!"));
    }
}
