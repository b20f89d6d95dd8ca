//! How `--color` and NO_COLOR decide colour, and how counts read (moved from
//! tests/it/polish.rs, which tests the same on the built binary: `decide_color` and
//! `report::count` are internal to the crate).

#[test]
fn color_follows_the_flag_and_no_color() {
    use crate::cli::{ColorWhen, decide_color};
    use std::ffi::OsStr;
    assert!(decide_color(ColorWhen::Auto, true, None));
    assert!(!decide_color(ColorWhen::Auto, false, None), "not a terminal");
    assert!(!decide_color(ColorWhen::Auto, true, Some(OsStr::new("1"))), "NO_COLOR");
    assert!(decide_color(ColorWhen::Auto, true, Some(OsStr::new(""))), "an empty NO_COLOR is unset");
    assert!(decide_color(ColorWhen::Always, false, Some(OsStr::new("1"))), "a flag beats NO_COLOR");
    assert!(!decide_color(ColorWhen::Never, true, None));
}

#[test]
fn counts_read_as_english() {
    assert_eq!(crate::report::count(1, "rule", "rules"), "1 rule");
    assert_eq!(crate::report::count(0, "rule", "rules"), "0 rules");
}
