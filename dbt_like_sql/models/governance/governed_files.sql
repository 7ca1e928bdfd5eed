-- The landing file versions (name, sha256) governance has processed; the next run processes only
-- versions that are not here (see the governance_batch macro).
-- depends_on: {{ source('raw', 'raw_events') }}
-- depends_on: {{ ref('event_outcomes') }}
-- depends_on: {{ ref('quarantined_events') }}
-- depends_on: {{ ref('guarded_sessions') }}
-- depends_on: {{ ref('ga4_event_items') }}
SELECT
    source_file,
    sha256,
    rows_loaded,
    lines_rejected,
    cast(now() AS TIMESTAMP) AS governed_at
FROM {{ raw_zone('landing_files') }}
WHERE status = 'loaded'
