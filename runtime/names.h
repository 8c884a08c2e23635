/* SPDX-License-Identifier: MIT */
/*
 * names.h: the names upgrade-plan keeps for itself in a target database,
 * shared by the runtime (which creates them) and the compiler (which refuses
 * plans that would use them).
 */
#ifndef UPG_RUNTIME_NAMES_H
#define UPG_RUNTIME_NAMES_H

/* uprun's history table (history.h). */
#define UPG_HISTORY_TABLE "upgrade_plan_history"
/* The releases (channel, sequence) that ran on the database: a bundle may not go back (history.h). */
#define UPG_RELEASES_TABLE "upgrade_plan_releases"
/* Its journal of the units of a step in progress (history.h, units_*). */
#define UPG_UNITS_TABLE "upgrade_plan_units"
/* How far a unit that runs in batches got: its last key (history.h, batches_*). */
#define UPG_BATCHES_TABLE "upgrade_plan_batches"
/* The prefix of the tables the lowerings make for a while: a SQLite rebuild's "_upg_new_T", the
 * foreign key check's "_upg_fk_check". */
#define UPG_RESERVED_PREFIX "_upg_"

#endif
