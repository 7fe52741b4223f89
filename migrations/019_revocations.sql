-- Issue 13, item 5: the VPN certificates' lifecycle. A revocation names the certificate by its
-- serial (media.cert_serial) and keeps the media it was shipped on, when, why (CRLReason key) and
-- who; one row per certificate. Every CRL nsdb signs takes the next number from crl_issues, so
-- CRL numbers only increase, across servers sharing one database.
CREATE TABLE cert_revocations (
    id @ID@,
    serial TEXT NOT NULL UNIQUE,
    media_id BIGINT NOT NULL REFERENCES media(id),
    reason TEXT NOT NULL CHECK (reason IN ('keyCompromise','superseded','cessationOfOperation')),
    revoked_at BIGINT NOT NULL,
    revoked_by BIGINT REFERENCES users(id)
);
CREATE INDEX cert_revocations_media ON cert_revocations(media_id);

CREATE TABLE crl_issues (
    id @ID@,                              -- the CRL number
    issued_at BIGINT NOT NULL,
    issued_by BIGINT REFERENCES users(id)
);

-- A renewal media carries a new certificate for one whose end is near (kind 'reissue', no
-- damaged media behind it): renewal_of names the media whose certificate it renews, once.
ALTER TABLE media ADD COLUMN renewal_of BIGINT REFERENCES media(id);
CREATE UNIQUE INDEX media_one_renewal ON media(renewal_of);
