//! Errors that name the file, the line (or JSON-array element) and the field.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input file a problem is: the file and its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: PathBuf,
    /// 1-based line number where the offending record starts (0 when unknown).
    pub line: usize,
}

impl Loc {
    pub fn new(file: &Path, line: usize) -> Self {
        Loc {
            file: file.to_path_buf(),
            line,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// Every error the loaders and validators return.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The line (or file) is not valid JSON.
    #[error("{loc}: invalid JSON: {msg}")]
    Json { loc: Loc, msg: String },
    /// A field is missing, has the wrong type or an unacceptable value.
    #[error("{loc}: field `{field}`: {msg}")]
    Field {
        loc: Loc,
        field: String,
        msg: String,
    },
    /// A whole-file problem (e.g. a benchmark folder without its files).
    #[error("{}: {msg}", file.display())]
    File { file: PathBuf, msg: String },
}

impl DataError {
    pub fn io(file: &Path, source: std::io::Error) -> Self {
        DataError::Io {
            file: file.to_path_buf(),
            source,
        }
    }
    pub fn field(loc: &Loc, field: impl Into<String>, msg: impl Into<String>) -> Self {
        DataError::Field {
            loc: loc.clone(),
            field: field.into(),
            msg: msg.into(),
        }
    }
    /// The location the error points at, when it has one.
    pub fn loc(&self) -> Option<&Loc> {
        match self {
            DataError::Json { loc, .. } | DataError::Field { loc, .. } => Some(loc),
            _ => None,
        }
    }
    /// The field the error names, when it names one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            DataError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
