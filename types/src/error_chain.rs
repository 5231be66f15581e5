//! An error printed with its causes.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each error in its [`Error::source`] chain, joined by `": "`.
///
/// The workspace's errors print their own layer only and return what they wrap as
/// `source()`, so that a caller printing the chain sees each cause once. This is that printer,
/// for the places that turn an error into one line of text (a `reason=` in
/// Authentication-Results, a rejection reason, a CLI message).
///
/// # Examples
///
/// ```
/// use mailward_types::Causes;
///
/// let inner = std::io::Error::other("disk full");
/// let outer = std::io::Error::new(std::io::ErrorKind::Other, Wrapped(inner));
/// # #[derive(Debug)] struct Wrapped(std::io::Error);
/// # impl std::fmt::Display for Wrapped {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("cannot save") }
/// # }
/// # impl std::error::Error for Wrapped {
/// #     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
/// # }
/// let wrapped = outer.into_inner().unwrap();
/// assert_eq!(Causes(wrapped.as_ref()).to_string(), "cannot save: disk full");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Causes<'e>(pub &'e (dyn Error + 'static));

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}
