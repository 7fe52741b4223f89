-- 004: media cycle — cycles as data, media (one per municipality and institution, plus
-- reissues), packages (Letter Pack Plus, at most 15 media each).

CREATE TABLE cycles (
    id TEXT PRIMARY KEY,                  -- the first day of the registration window
    registration_from TEXT NOT NULL,      -- ISO dates (Japan)
    registration_to TEXT NOT NULL,
    media_from TEXT NOT NULL,
    media_to TEXT NOT NULL,
    delivery_from TEXT NOT NULL,
    delivery_to TEXT NOT NULL,
    adjusted_by BIGINT REFERENCES users(id),  -- set when the operator changed the dates
    adjusted_at BIGINT
);
CREATE INDEX cycles_registration_to ON cycles(registration_to);

CREATE TABLE packages (
    id @ID@,
    cycle_id TEXT NOT NULL REFERENCES cycles(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    seq INTEGER NOT NULL,                 -- 1, 2 … within the municipality and cycle
    tracking_number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('shipped','received')),
    created_at BIGINT NOT NULL,
    received_at BIGINT,
    received_by BIGINT REFERENCES users(id),
    UNIQUE (cycle_id, municipality_id, seq)
);

CREATE TABLE media (
    id @ID@,
    cycle_id TEXT NOT NULL REFERENCES cycles(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    kind TEXT NOT NULL CHECK (kind IN ('initial','reissue')),
    reissue_of BIGINT REFERENCES media(id),
    status TEXT NOT NULL CHECK (status IN ('created','packed','shipped','received','forwarded','damaged','reissued')),
    iso_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    volume_id TEXT NOT NULL,
    cert_serial TEXT NOT NULL,
    passphrase_sealed BLOB NOT NULL,      -- the PKCS#12 passphrase, sealed; printed at the municipality
    package_id BIGINT REFERENCES packages(id),
    reissue_cycle_id TEXT REFERENCES cycles(id),  -- damaged: the cycle that makes the new one
    created_at BIGINT NOT NULL,
    forwarded_on TEXT,                    -- ISO date the municipality sent it to the institution
    damage_note TEXT,
    updated_at BIGINT NOT NULL
);
-- one first media per municipality and institution; one reissue per damaged media
CREATE UNIQUE INDEX media_one_initial ON media(municipality_id, institution_id) WHERE kind = 'initial';
CREATE UNIQUE INDEX media_one_reissue ON media(reissue_of) WHERE kind = 'reissue';
CREATE INDEX media_cycle ON media(cycle_id, municipality_id, status);
CREATE INDEX media_package ON media(package_id);
