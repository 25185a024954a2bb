//! The types of the language, as the checker infers them.

use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int,
    Text,
    Date,
    Version,
    Enum(u32),
    Record(u32),
    /// A record literal's type: its field names and types.
    Anon(Arc<[(Arc<str>, Type)]>),
    Row(u32),
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Optional(Box<Type>),
    /// The element type of `[]`: fits any.
    Any,
    /// After an error: fits anything, so one mistake gives one diagnostic.
    Error,
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn optional(t: Type) -> Type {
        match t {
            Type::Optional(_) | Type::Error | Type::Any => t,
            t => Type::Optional(Box::new(t)),
        }
    }
    pub fn strip_optional(&self) -> &Type {
        match self {
            Type::Optional(t) => t,
            t => t,
        }
    }
    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error | Type::Any)
    }
    /// Do values of this type have an order (`<`, `min`, `sort`)?
    pub fn is_ordered(&self) -> bool {
        matches!(
            self.strip_optional(),
            Type::Int
                | Type::Text
                | Type::Date
                | Type::Version
                | Type::Enum(_)
                | Type::Error
                | Type::Any
        )
    }

    pub fn element(&self) -> Option<&Type> {
        match self.strip_optional() {
            Type::List(t) => Some(t),
            Type::Error | Type::Any => Some(&Type::Error),
            _ => None,
        }
    }

    /// Can a value of `self` stand where `to` is expected?
    pub fn fits(&self, to: &Type) -> bool {
        match (self, to) {
            (a, b) if a == b => true,
            (Type::Error | Type::Any, _) | (_, Type::Error | Type::Any) => true,
            (a, Type::Optional(b)) => a.strip_optional().fits(b),
            (Type::List(a), Type::List(b)) => a.fits(b),
            (Type::Map(ka, va), Type::Map(kb, vb)) => ka.fits(kb) && va.fits(vb),
            (Type::Anon(a), Type::Anon(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.0 == y.0 && x.1.fits(&y.1))
            }
            _ => false,
        }
    }

    /// The type of a value that may be either: `None` when they do not mix.
    pub fn unify(&self, other: &Type) -> Option<Type> {
        match (self, other) {
            (a, b) if a == b => Some(a.clone()),
            (Type::Error, _) | (_, Type::Error) => Some(Type::Error),
            (Type::Any, b) => Some(b.clone()),
            (a, Type::Any) => Some(a.clone()),
            (Type::Optional(a), b) | (b, Type::Optional(a)) => {
                a.unify(b.strip_optional()).map(Type::optional)
            }
            (Type::List(a), Type::List(b)) => a.unify(b).map(Type::list),
            _ => None,
        }
    }
}

/// Renders a type with the policy's names for enums and records.
pub struct Show<'a> {
    pub ty: &'a Type,
    pub enums: &'a [String],
    pub records: &'a [String],
    pub tables: &'a [String],
}

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |ty| Show { ty, ..*self };
        let name = |v: &[String], i: u32| v.get(i as usize).cloned().unwrap_or_default();
        match self.ty {
            Type::Bool => write!(f, "Bool"),
            Type::Int => write!(f, "Int"),
            Type::Text => write!(f, "Text"),
            Type::Date => write!(f, "Date"),
            Type::Version => write!(f, "Version"),
            Type::Enum(i) => write!(f, "{}", name(self.enums, *i)),
            Type::Record(i) => write!(f, "{}", name(self.records, *i)),
            Type::Row(i) => write!(f, "a row of `{}`", name(self.tables, *i)),
            Type::Anon(fields) => {
                write!(f, "{{")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{n}: {}", sub(t))?;
                }
                write!(f, "}}")
            }
            Type::List(t) => write!(f, "List<{}>", sub(t)),
            Type::Map(k, v) => write!(f, "Map<{}, {}>", sub(k), sub(v)),
            Type::Optional(t) => write!(f, "{}?", sub(t)),
            Type::Any => write!(f, "anything"),
            Type::Error => write!(f, "(unknown)"),
        }
    }
}
