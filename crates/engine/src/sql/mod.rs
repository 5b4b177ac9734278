//! SQL as text: reading it ([`lex`]) and writing it ([`text`]). Shared by the dump, the
//! restore and the TLS notices, below all of them.

pub mod lex;
pub mod text;
