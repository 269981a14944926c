//! `shout!("text")` expands to the string literal `"TEXT"`.
use proc_macro::{Literal, TokenStream, TokenTree};

#[proc_macro]
pub fn shout(input: TokenStream) -> TokenStream {
    let text = input.to_string();
    let inner = text.trim().trim_matches('"');
    TokenTree::Literal(Literal::string(&inner.to_uppercase())).into()
}
