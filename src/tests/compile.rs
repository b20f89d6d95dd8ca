//! The templates' fuel budget (moved from tests/it/compile.rs: `Templates::for_input` is
//! internal to the crate); the runaway template itself is stopped in tests/it/compile.rs.

#[test]
fn runaway_templates_are_stopped_and_the_budget_grows_with_the_policy() {
    let templates = crate::targets::Templates::builtin().expect("templates");
    assert!(templates.for_input(1_000).is_none(), "small devices keep the base budget");
    assert!(templates.for_input(5_000_000).is_some(), "large devices get more");
}
