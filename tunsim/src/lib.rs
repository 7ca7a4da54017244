pub mod lang;
pub mod payload;
