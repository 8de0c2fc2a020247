-- Placeholder: number 0014 belongs to the 3PL work (branch edi-3pl), which adds its own 0014. Migrations must be
-- contiguous (the loader refuses a gap), so this branch's 0015 needs a 0014 to run on its own. When the branches are
-- merged, delete this file and keep edi-3pl's 0014. Its one statement changes nothing (a migration has at least one).
UPDATE keel_meta SET updated_at = updated_at WHERE 1 = 0;
