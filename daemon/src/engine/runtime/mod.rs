//! Running compiled jobs and workflows in QuickJS.
