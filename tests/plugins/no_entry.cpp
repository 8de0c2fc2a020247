// A library that is no plugin: it exports nothing, so the host must refuse it naming keel_plugin_entry.

namespace {
int unused() {
    return 0;
}
}  // namespace

int (*keel_test_no_entry_anchor)() = &unused;
