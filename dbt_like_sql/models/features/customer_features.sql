-- Per-customer features from the real customer table (marketing_campaign.csv). Values that do not
-- parse become NULL and are flagged in data_issues, never dropped silently. Plausible birth years
-- are 1920-2005 (the file has 1893, 1899 and 1900): birth_year_in_range is the one place that rule
-- lives; personas and the `gtm personas` CLI both read it.
with typed as (
    select
        raw_row_id,
        source_file,
        source_file_sha256,
        source_row_number,
        try_cast("ID" as integer) as customer_id,
        try_cast("Year_Birth" as integer) as year_birth,
        "Education" as education,
        "Marital_Status" as marital_status,
        try_cast(nullif(trim("Income"), '') as double) as income,
        try_cast("Kidhome" as integer) + try_cast("Teenhome" as integer) as household_children,
        try_strptime("Dt_Customer", '%d-%m-%Y')::date as customer_since,
        try_cast("Recency" as integer) as recency_days,
        try_cast("MntWines" as integer) + try_cast("MntFruits" as integer)
            + try_cast("MntMeatProducts" as integer) + try_cast("MntFishProducts" as integer)
            + try_cast("MntSweetProducts" as integer) + try_cast("MntGoldProds" as integer) as total_spend,
        try_cast("AcceptedCmp1" as integer) + try_cast("AcceptedCmp2" as integer)
            + try_cast("AcceptedCmp3" as integer) + try_cast("AcceptedCmp4" as integer)
            + try_cast("AcceptedCmp5" as integer) as past_accept_count,
        try_cast("NumWebPurchases" as integer) as web_purchases,
        try_cast("NumCatalogPurchases" as integer) as catalog_purchases,
        try_cast("NumStorePurchases" as integer) as store_purchases,
        try_cast("NumDealsPurchases" as integer) as deals_purchases,
        try_cast("NumWebVisitsMonth" as integer) as web_visits_month,
        try_cast("Response" as integer) as response
    from {{ source('raw', 'raw_customers') }}
),

checked as (
    select *, coalesce(year_birth between 1920 and 2005, false) as birth_year_in_range
    from typed
)

select
    lineage_id('customer', raw_row_id) as lineage_id,
    *,
    date_diff('day', customer_since, max(customer_since) over ()) as tenure_days,
    concat_ws(', ',
        case when income is null then 'missing_income' end,
        case when not birth_year_in_range then 'year_birth_out_of_range' end,
        case when total_spend is null then 'unparseable_spend' end,
        case when past_accept_count is null then 'unparseable_acceptances' end,
        case when response is null then 'missing_response' end
    ) as data_issues
from checked
