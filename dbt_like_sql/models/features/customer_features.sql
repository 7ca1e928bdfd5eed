-- Per-customer features from the real customer table (marketing_campaign.csv). Values that do not
-- parse become NULL and are flagged in data_issues, never dropped silently. Plausible birth years
-- are 1920-2005 (the file has 1893, 1899 and 1900): birth_year_in_range is the one place that rule
-- lives; personas and the `gtm personas` CLI both read it.
-- The file's own column names (ID, Year_Birth, ...) are unquoted: DuckDB and Spark both match
-- identifiers without regard to case, while a quote differs between them ("" vs ``); the
-- lower-case aliases (Education AS education) are the model's own names.
WITH typed AS (
    SELECT  -- noqa: disable=CP02,AL09
        raw_row_id,
        source_file,
        source_file_sha256,
        source_row_number,
        try_cast(ID AS INTEGER) AS customer_id,
        try_cast(Year_Birth AS INTEGER) AS year_birth,
        Education AS education,
        Marital_Status AS marital_status,
        try_cast(nullif(trim(Income), '') AS DOUBLE) AS income,
        try_cast(Kidhome AS INTEGER) + try_cast(Teenhome AS INTEGER) AS household_children,
        {{ date_from_day_month_year('Dt_Customer') }} AS customer_since,
        try_cast(Recency AS INTEGER) AS recency_days,
        try_cast(MntWines AS INTEGER) + try_cast(MntFruits AS INTEGER)
        + try_cast(MntMeatProducts AS INTEGER) + try_cast(MntFishProducts AS INTEGER)
        + try_cast(MntSweetProducts AS INTEGER) + try_cast(MntGoldProds AS INTEGER) AS total_spend,
        try_cast(AcceptedCmp1 AS INTEGER) + try_cast(AcceptedCmp2 AS INTEGER)
        + try_cast(AcceptedCmp3 AS INTEGER) + try_cast(AcceptedCmp4 AS INTEGER)
        + try_cast(AcceptedCmp5 AS INTEGER) AS past_accept_count,
        try_cast(NumWebPurchases AS INTEGER) AS web_purchases,
        try_cast(NumCatalogPurchases AS INTEGER) AS catalog_purchases,
        try_cast(NumStorePurchases AS INTEGER) AS store_purchases,
        try_cast(NumDealsPurchases AS INTEGER) AS deals_purchases,
        try_cast(NumWebVisitsMonth AS INTEGER) AS web_visits_month,
        try_cast(Response AS INTEGER) AS response
    FROM {{ source('raw', 'raw_customers') }}  -- noqa: enable=CP02,AL09
),

checked AS (
    SELECT
        *,
        coalesce(year_birth BETWEEN 1920 AND 2005, FALSE) AS birth_year_in_range
    FROM typed
)

SELECT
    {{ lineage_id('customer', 'raw_row_id') }} AS lineage_id,
    *,
    {{ days_between('customer_since', 'max(customer_since) OVER ()') }} AS tenure_days,
    concat_ws(
        ', ',
        CASE WHEN income IS NULL THEN 'missing_income' END,
        CASE WHEN NOT birth_year_in_range THEN 'year_birth_out_of_range' END,
        CASE WHEN total_spend IS NULL THEN 'unparseable_spend' END,
        CASE WHEN past_accept_count IS NULL THEN 'unparseable_acceptances' END,
        CASE WHEN response IS NULL THEN 'missing_response' END
    ) AS data_issues
FROM checked
