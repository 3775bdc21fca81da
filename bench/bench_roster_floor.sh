#!/bin/bash
# The database's floor for the 1,000,000-row roster import (issue 18, point 3): the rows the importer itself
# wrote, loaded again by plain COPY with no Python at all, into a copy of the database it was imported into.
# What a COPY costs as the schema stands, and which part the foreign keys and the secondary indexes take.
#
#   bench/bench_roster_floor.sh IMPORTED BASE
#
# BASE: a PostgreSQL database holding the city demo (never changed: the script works on a copy, sn_floor).
# IMPORTED: a copy of BASE into which `bench/bench_members_import.py` imported the 1 M file; the rows it added
# are those with ids above BASE's maxima (exported once into FLOOR_DIR, then reused). Every variant runs in a
# transaction rolled back, with a VACUUM after it, so each starts from the same tables.
set -euo pipefail
IMPORTED=$1
BASE=$2
PSQL=(psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -v ON_ERROR_STOP=1 -q)
DIR=${FLOOR_DIR:-/tmp/roster-floor}
mkdir -p "$DIR"
TABLES=(members_person members_employment members_membership members_employmentspan)

for table in "${TABLES[@]}"; do
  if [ ! -s "$DIR/$table.copy" ]; then
    max=$("${PSQL[@]}" -Atc "SELECT coalesce(max(id), 0) FROM $table" "$BASE")
    "${PSQL[@]}" -c "\\copy (SELECT * FROM $table WHERE id > $max ORDER BY id) TO '$DIR/$table.copy'" "$IMPORTED"
  fi
  echo "$table: $(wc -l < "$DIR/$table.copy") rows"
done

dropdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" --if-exists sn_floor
createdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -T "$BASE" sn_floor
"${PSQL[@]}" -c "VACUUM ANALYZE" sn_floor

# Each variant is one psql script on sn_floor, written line by line: ``mark`` starts a clock, ``took LABEL``
# prints a table row with the seconds since (clock_timestamp: the wall clock, also inside a transaction).
SCRIPT="$DIR/variant.sql"
begin() { printf '%s\n' "$@" > "$SCRIPT"; }
line() { printf '%s\n' "$@" >> "$SCRIPT"; }
mark() { line "SELECT clock_timestamp() AS started \\gset"; }
took() {
  line "SELECT round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz)::numeric, 1) AS seconds \\gset"
  line "\\echo '| $1 |' :seconds 's |'"
}
copy() { line "\\copy $1 FROM '$DIR/$1.copy'"; }
run() {
  line "ROLLBACK;"
  "${PSQL[@]}" -f "$SCRIPT" sn_floor
  "${PSQL[@]}" -c "VACUUM members_person, members_employment, members_membership, members_employmentspan" sn_floor
}

PERSON_HASHES="ALTER TABLE members_person DROP CONSTRAINT person_unique_document; DROP INDEX person_phone_hash_idx;"
PERSON_NAME="DROP INDEX person_name_order_idx;"
EMPLOYMENT_KEYS="ALTER TABLE members_employment
  DROP CONSTRAINT members_employment_enterprise_id_03001ed7_fk_orgs_enterprise_id,
  DROP CONSTRAINT members_employment_person_id_7f36e7fb_fk_members_person_id;"
EMPLOYMENT_INDEXES="DROP INDEX employment_ent_cover_idx; DROP INDEX employment_person_cover_idx;"
MEMBERSHIP_KEYS="ALTER TABLE members_membership
  DROP CONSTRAINT members_membership_person_id_12ff447c_fk_members_person_id,
  DROP CONSTRAINT members_membership_union_id_3b36218a_fk_orgs_grassrootsunion_id;"
MEMBERSHIP_INDEXES="DROP INDEX membership_member_number_idx; DROP INDEX membership_union_cover_idx;
  DROP INDEX membership_person_cover_idx;"
SPAN_INDEXES="DROP INDEX members_employmentspan_person_id_546035c2; DROP INDEX span_enterprise_from_idx;"
REBUILD="ALTER TABLE members_person ADD CONSTRAINT person_unique_document UNIQUE (id_number_hash, id_type);
CREATE INDEX person_phone_hash_idx ON members_person (phone_hash);
CREATE INDEX person_name_order_idx ON members_person (name COLLATE \"C\", id) INCLUDE (household);
CREATE INDEX employment_ent_cover_idx ON members_employment (enterprise_id, valid_from, valid_to) INCLUDE (person_id);
CREATE INDEX employment_person_cover_idx ON members_employment (person_id, valid_from) INCLUDE (enterprise_id, valid_to);
CREATE INDEX membership_member_number_idx ON members_membership (member_number);
CREATE INDEX membership_union_cover_idx ON members_membership (union_id, valid_from, valid_to) INCLUDE (person_id);
CREATE INDEX membership_person_cover_idx ON members_membership (person_id, valid_from) INCLUDE (union_id, valid_to);
CREATE INDEX members_employmentspan_person_id_546035c2 ON members_employmentspan (person_id);
CREATE INDEX span_enterprise_from_idx ON members_employmentspan (enterprise_id, valid_from);
ALTER TABLE members_employment ADD CONSTRAINT members_employment_enterprise_id_03001ed7_fk_orgs_enterprise_id
  FOREIGN KEY (enterprise_id) REFERENCES orgs_enterprise (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE members_employment ADD CONSTRAINT members_employment_person_id_7f36e7fb_fk_members_person_id
  FOREIGN KEY (person_id) REFERENCES members_person (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE members_membership ADD CONSTRAINT members_membership_person_id_12ff447c_fk_members_person_id
  FOREIGN KEY (person_id) REFERENCES members_person (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE members_membership ADD CONSTRAINT members_membership_union_id_3b36218a_fk_orgs_grassrootsunion_id
  FOREIGN KEY (union_id) REFERENCES orgs_grassrootsunion (id) DEFERRABLE INITIALLY DEFERRED;"

echo "# $(date -u '+%Y-%m-%d %H:%M') UTC · $(nproc) cores · load $(cut -d' ' -f1-3 /proc/loadavg) · base $BASE"
echo "| COPY of the import's own rows into a copy of the base, constraints immediate (as the importer) | wall |"
echo "| --- | --- |"
begin "BEGIN;" "SET CONSTRAINTS ALL IMMEDIATE;" "SELECT clock_timestamp() AS whole \\gset"
for table in "${TABLES[@]}"; do
  mark; copy "$table"; took "$table, as the schema stands"
done
line "SELECT round(extract(epoch FROM clock_timestamp() - :'whole'::timestamptz)::numeric, 1) AS seconds \\gset"
line "\\echo '| all four, as the schema stands (the floor) |' :seconds 's |'"
run

begin "BEGIN;" "SET CONSTRAINTS ALL IMMEDIATE;"
copy members_person
line "$EMPLOYMENT_KEYS" "$MEMBERSHIP_KEYS"
mark; copy members_employment; took "members_employment without its 2 foreign keys"
mark; copy members_membership; took "members_membership without its 2 foreign keys"
run

begin "BEGIN;" "SET CONSTRAINTS ALL IMMEDIATE;"
copy members_person
line "$EMPLOYMENT_KEYS" "$EMPLOYMENT_INDEXES"
mark; copy members_employment; took "members_employment without its foreign keys and 2 secondary indexes"
run

begin "BEGIN;" "$PERSON_HASHES"
mark; copy members_person; took "members_person without the two lookup-hash indexes (document, phone)"
run

begin "BEGIN;" "$PERSON_HASHES" "$PERSON_NAME"
mark; copy members_person; took "members_person without any secondary index"
run

begin "BEGIN;" "SET CONSTRAINTS ALL IMMEDIATE;" "SET LOCAL maintenance_work_mem = '256MB';"
line "$PERSON_HASHES" "$PERSON_NAME" "$EMPLOYMENT_KEYS" "$EMPLOYMENT_INDEXES" "$MEMBERSHIP_KEYS"
line "$MEMBERSHIP_INDEXES" "$SPAN_INDEXES"
mark
for table in "${TABLES[@]}"; do copy "$table"; done
took "all four with no secondary index and no foreign key"
mark; line "$REBUILD"; took "… then the 10 indexes built and the 4 foreign keys validated"
run
dropdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" sn_floor
