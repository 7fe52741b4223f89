-- Issue 12, item 6: the same designated doctor (指定医番号) registered again by the municipality
-- for the other category becomes 両方 on the existing account; every registration looks the
-- number up, so it is indexed within the municipality.
CREATE INDEX users_doctor_number ON users(municipality_id, doctor_number);
