//! `c_enum!`: one table per enum the C API mirrors, so a value is added in one line.
//!
//! Each invocation defines the Rust enum with its fixed numbers, its short names, `COUNT`,
//! `ALL`, `from_repr` and `Display`. cbindgen cannot expand macros, so `build.rs` reads the
//! same invocations as text and writes the plain C mirror it hands to cbindgen: one line per
//! value here is one enumerator in `include/lwip_snat.h`. The form `build.rs` reads:
//!
//! ```text
//! c_enum! {
//!     /// doc
//!     pub enum RustName: u8 as c_name {      // `as c_name`: a core enum with a C twin
//!         /// doc
//!         Variant = 0 => C_VARIANT, "short_name";
//!     }
//! }
//! c_enum! {
//!     /// doc
//!     pub enum c_name: i32 {                 // no `as`: the C enum itself
//!         /// doc
//!         C_VARIANT = -1;                    // its name is its short name
//!     }
//! }
//! ```
//!
//! Uses nothing else in the crate.

/// The C string of a literal that ends in NUL, at compile time (a missing NUL is a build error).
pub(crate) const fn c_str(text: &'static str) -> &'static core::ffi::CStr {
    match core::ffi::CStr::from_bytes_with_nul(text.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("not a C string"),
    }
}

/// Name `index` of `bytes` (NUL-terminated names one after another: tables' `C_NAMES`) as a
/// C string, or NULL past the last: a short scan, where a pointer per name took 4 bytes of flash
/// each. In line in its one caller, `ffi::names`'s scan of the result codes' and drop reasons'
/// names joined into one table (the table's address and length are constants there).
#[cfg(feature = "dump")]
#[inline(always)]
pub(crate) fn nth_c_name(bytes: &'static [u8], index: u32) -> *const core::ffi::c_char {
    let mut left = index;
    for (at, &byte) in bytes.iter().enumerate() {
        if left == 0 {
            return bytes.as_ptr().wrapping_add(at).cast();
        }
        if byte == 0 {
            left -= 1;
        }
    }
    core::ptr::null()
}

/// Names of the `V` values of a few state bits as the C API hands them out: per value, where
/// its name starts (counted from the table's first byte), then the `L` bytes of the names one
/// after another, each ending in NUL: one address for both, worked out at compile time, so a
/// name is a load and an add (choosing among a pointer per name took branches: 100 and 70 bytes
/// on the M4 for TCP and UDP). Only the first `N` values keep an offset: every value from
/// `N - 1` up has the name of `N - 1` (checked at build time), so a lookup clamps to it (TCP's
/// RST bit is its top bit: 16 offsets fewer for a compare and a move). The session tables keep
/// one beside their states (`tables::tcp::NAMES`, `tables::udp::NAMES`).
#[repr(C)]
pub(crate) struct StateNames<const V: usize, const N: usize, const L: usize> {
    at: [u8; N],
    names: [u8; L],
}

impl<const V: usize, const N: usize, const L: usize> StateNames<V, N, L> {
    /// The table in which value `v` has name number `index[v]` of `names` (NUL-ended names).
    pub(crate) const fn new(names: &str, index: [u8; V]) -> Self {
        let bytes = names.as_bytes();
        let mut table = Self { at: [0; N], names: [0; L] };
        let mut byte = 0;
        while byte < L {
            table.names[byte] = bytes[byte];
            byte += 1;
        }
        assert!(V.is_power_of_two() && N >= 1 && N <= V);
        let mut value = 0;
        while value < V {
            // The values the table keeps no offset for share the last kept one's name.
            assert!(value < N || index[value] == index[N - 1]);
            value += 1;
        }
        value = 0;
        while value < N {
            // Name number n starts after the n-th NUL.
            let (mut offset, mut left) = (0, index[value]);
            while left > 0 {
                if bytes[offset] == 0 {
                    left -= 1;
                }
                offset += 1;
            }
            assert!(bytes.len() == L && bytes[L - 1] == 0 && offset < L && N + offset <= u8::MAX as usize);
            table.at[value] = (N + offset) as u8;
            value += 1;
        }
        table
    }

    /// Where in `at` the offset of `state`'s name is: its bits above the `V` values not read,
    /// values from `N - 1` up at `N - 1`.
    #[inline(always)]
    fn slot(state: u8) -> usize {
        (usize::from(state) % V).min(N - 1)
    }

    /// Name of `state` as a C string; its bits above the `V` values are not read.
    #[inline(always)]
    pub(crate) fn c_name(&'static self, state: u8) -> *const core::ffi::c_char {
        let offset = self.at[Self::slot(state)];
        core::ptr::from_ref(self).cast::<core::ffi::c_char>().wrapping_add(usize::from(offset))
    }

    /// Name of `state` (for `tables::tcp::name` and `udp::name`).
    #[cfg(any(test, feature = "internals"))]
    pub(crate) fn name(&'static self, state: u8) -> &'static core::ffi::CStr {
        // The name `c_name` points at: `at` holds offsets counted from the table's first byte.
        let start = usize::from(self.at[Self::slot(state)]) - N;
        // Every name ends in NUL (checked by `new`), so the empty answer is never given.
        core::ffi::CStr::from_bytes_until_nul(self.names.get(start..).unwrap_or_default()).unwrap_or_default()
    }
}

/// A `StateNames` static's value: `$names` (NUL-ended names), value `v` of the `$v` named by
/// name number `$index(v)` (a `const fn(u8) -> u8`: the state module's one classification), the
/// first `$n` kept (see `StateNames`).
macro_rules! state_names {
    ($v:literal, $n:literal, $names:expr, $index:path) => {{
        let mut index = [0; $v];
        let mut value = 0;
        while value < $v {
            index[value] = $index(value as u8);
            value += 1;
        }
        $crate::c_enum::StateNames::<$v, $n, { $names.len() }>::new($names, index)
    }};
}
pub(crate) use state_names;

/// See the module doc.
macro_rules! c_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $repr:ident as $c_name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $c_variant:ident, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[doc = concat!("\n\nIn C: `", stringify!($c_name), "`.")]
        #[repr($repr)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = concat!("\n\nIn C: `", stringify!($c_variant), "`.")] $variant = $value, )*
        }
        $crate::c_enum::c_enum!(@impl $name, $repr, $( $variant = $value, $text; )*);
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $repr:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[repr($repr)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }
        $crate::c_enum::c_enum!(@impl $name, $repr, $( $variant = $value, stringify!($variant); )*);
    };
    (@impl $name:ident, $repr:ident, $( $variant:ident = $value:literal, $text:expr; )*) => {
        impl $name {
            /// How many values there are.
            pub const COUNT: usize = [$($value),*].len();
            /// Every value, in the order of the table.
            pub const ALL: [Self; Self::COUNT] = [$(Self::$variant),*];

            /// Every short name in the order of the table, each ending in NUL: the C API finds
            /// one with [`nth_c_name`](crate::c_enum::nth_c_name) instead of holding a pointer per
            /// name.
            #[allow(dead_code)]
            pub const C_NAMES: &'static str = concat!($($text, "\0",)*);

            /// Its short name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// Its short name as a C string, for the C API.
            pub const fn c_name(self) -> &'static core::ffi::CStr {
                match self {
                    $(Self::$variant => {
                        const NAME: &core::ffi::CStr = $crate::c_enum::c_str(concat!($text, "\0"));
                        NAME
                    })*
                }
            }

            /// The value with this number, if there is one.
            pub const fn from_repr(number: $repr) -> Option<Self> {
                match number {
                    $($value => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use c_enum;

#[cfg(test)]
mod tests {
    extern crate std;
    use std::collections::BTreeSet;
    use std::string::ToString;

    use crate::ffi::{lwip_snat_action, lwip_snat_err_t, lwip_snat_route, lwip_snat_rule_kind};
    use crate::{DropReason, Filtering, FullPolicy, Protocol};

    /// Every value of a table: its number finds it again, its names agree and are unique.
    macro_rules! check_table {
        ($($name:ident),*) => {$(
            let mut names = BTreeSet::new();
            for value in $name::ALL {
                assert_eq!($name::from_repr(value as _), Some(value), "{value:?}");
                assert_eq!(value.c_name().to_str(), Ok(value.name()));
                assert_eq!(value.to_string(), value.name());
                assert!(names.insert(value.name()), "{} twice in {}", value.name(), stringify!($name));
            }
            assert_eq!(names.len(), $name::COUNT);
        )*};
    }

    #[test]
    fn every_table_round_trips_through_its_numbers_and_names() {
        check_table!(DropReason, Filtering, FullPolicy, Protocol);
        check_table!(lwip_snat_err_t, lwip_snat_rule_kind, lwip_snat_route, lwip_snat_action);
    }

    #[test]
    fn numbers_outside_a_table_are_refused() {
        assert_eq!(DropReason::from_repr(DropReason::COUNT as u8), None);
        assert_eq!(Filtering::from_repr(3), None);
        assert_eq!(FullPolicy::from_repr(2), None);
        assert_eq!(lwip_snat_err_t::from_repr(-17), None);
        assert_eq!(lwip_snat_err_t::from_repr(1), None);
    }

    /// Values 2 to 7 named "b" in a table keeping three offsets; value 1 "c", 0 "a".
    const fn sample_index(state: u8) -> u8 {
        match state {
            0 => 0,
            1 => 2,
            _ => 1,
        }
    }
    static SAMPLE: super::StateNames<8, 3, 6> = state_names!(8, 3, "a\0b\0c\0", sample_index);

    #[test]
    fn values_past_the_kept_offsets_have_the_last_kept_name() {
        for state in 0..=u8::MAX {
            let expected = [c"a", c"c", c"b", c"b", c"b", c"b", c"b", c"b"][usize::from(state % 8)];
            assert_eq!(SAMPLE.name(state), expected, "{state}");
            assert_eq!(SAMPLE.c_name(state), SAMPLE.name(state).as_ptr(), "{state}");
        }
    }
}
