//! Domain value types stored as text (states, drivers, secrets) and the clock helper that gives
//! timestamps the precision both backends keep.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};

/// The current UTC time truncated to microseconds: PostgreSQL keeps no more, so a value written
/// and read back compares equal on both backends.
pub fn utc_now() -> NaiveDateTime {
    truncate_to_micros(Utc::now().naive_utc())
}

/// Truncates a timestamp to the microsecond precision that both backends store.
pub fn truncate_to_micros(time: NaiveDateTime) -> NaiveDateTime {
    time.trunc_subsecs(6)
}

/// A stored text that is not one of the values a text enum allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {type_name} (expected one of: {expected})")]
pub struct UnknownVariant {
    /// The enum that was parsed.
    pub type_name: &'static str,
    /// The rejected text.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: String,
}

/// Declares an enum stored as a fixed text spelling (the same spelling the CHECK constraints in
/// the migrations list), with `as_str`, `Display` and `FromStr`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in the database and used on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        type_name: stringify!($name),
                        value: value.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

text_enum! {
    /// Administrative state of a pod manager: only `Active` ones receive new nodes.
    pub enum PodmState {
        Active => "active",
        Cordoned => "cordoned",
        Deleting => "deleting",
    }
}

text_enum! {
    /// Health of a pod manager as last seen by the health check.
    pub enum PodmStatus {
        Online => "Online",
        Offline => "Offline",
        Unknown => "Unknown",
    }
}

text_enum! {
    /// Which southbound implementation talks to a pod manager.
    pub enum Driver {
        /// Intel Rack Scale Design 2.x pod manager.
        Rsd => "rsd",
        /// DMTF Redfish composition service.
        Redfish => "redfish",
    }
}

text_enum! {
    /// How Valence authenticates to a pod manager.
    pub enum AuthType {
        /// HTTP Basic on every request.
        Basic => "basic",
        /// Redfish session (X-Auth-Token).
        Session => "session",
    }
}

text_enum! {
    /// Life cycle of a composed node as Valence tracks it.
    pub enum NodeState {
        Allocating => "allocating",
        Assembling => "assembling",
        Ready => "ready",
        Failed => "failed",
        Deleting => "deleting",
    }
}

text_enum! {
    /// Who made a node: Valence composed it, or a user had Valence adopt an existing one.
    pub enum ManagedBy {
        Valence => "valence",
        User => "user",
    }
}

/// A stored credential (a PODM password today, ciphertext once encryption at rest lands).
///
/// Its `Debug` prints `[redacted]` and it has no `Display`, so a row that holds one can be
/// logged. Read the value only where it is sent to the PODM, with [`PasswordSecret::expose`].
#[derive(Clone)]
pub struct PasswordSecret(SecretString);

impl PasswordSecret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        PasswordSecret(SecretString::from(value.into()))
    }

    /// The secret value itself. Do not log it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PasswordSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for PasswordSecret {
    fn from(value: String) -> Self {
        PasswordSecret::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_roundtrip_their_spelling() {
        for state in NodeState::ALL {
            assert_eq!(state.as_str().parse::<NodeState>(), Ok(*state));
        }
        for status in PodmStatus::ALL {
            assert_eq!(status.to_string().parse::<PodmStatus>(), Ok(*status));
        }
    }

    #[test]
    fn unknown_spelling_names_type_and_choices() {
        let error = "Active".parse::<PodmState>().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("PodmState"), "{message}");
        assert!(message.contains("`Active`"), "{message}");
        assert!(message.contains("active, cordoned, deleting"), "{message}");
    }

    #[test]
    fn password_debug_is_redacted() {
        let secret = PasswordSecret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn truncation_keeps_microseconds_only() {
        let time = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789)
            .unwrap()
            .naive_utc();
        assert_eq!(
            truncate_to_micros(time).and_utc().timestamp_subsec_nanos(),
            123_456_000
        );
    }
}
