// The seed article's SQL (/work/shared/seed-article.md, "SQL-Style Change Stream Processing with
// QueryLeaf"), copied verbatim: it is the product's spec for the change-stream DDL.
#pragma once

namespace eddy::sql::seed {

inline constexpr const char* kOrderProcessingStream = R"SQL(CREATE CHANGE STREAM order_processing_stream ON orders
WATCH FOR (INSERT, UPDATE, DELETE)
WHERE 
  status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')
  AND total_amount > 0
WITH OPTIONS (
  full_document = 'updateLookup',
  full_document_before_change = 'whenAvailable',
  batch_size = 100,
  max_await_time = 1000,
  start_at_operation_time = CURRENT_TIMESTAMP - INTERVAL '1 hour'
)
PROCESS WITH order_lifecycle_handler;)SQL";

inline constexpr const char* kHighValueOrderStream = R"SQL(CREATE CHANGE STREAM high_value_order_stream ON orders
WATCH FOR (INSERT, UPDATE)
WHERE 
  operationType = 'insert' AND fullDocument.total_amount >= 1000
  OR (operationType = 'update' AND updateDescription.updatedFields.status EXISTS)
WITH PIPELINE (
  -- Stage 1: Additional filtering
  {
    $match: {
      $or: [
        { 
          operationType: 'insert',
          'fullDocument.customer_tier': { $in: ['gold', 'platinum'] }
        },
        {
          operationType: 'update',
          'fullDocument.total_amount': { $gte: 1000 }
        }
      ]
    }
  },
  
  -- Stage 2: Enrich with customer data
  {
    $lookup: {
      from: 'users',
      localField: 'fullDocument.user_id',
      foreignField: '_id',
      as: 'customer_data',
      pipeline: [
        {
          $project: {
            email: 1,
            customer_tier: 1,
            lifetime_value: 1,
            preferences: 1
          }
        }
      ]
    }
  },
  
  -- Stage 3: Calculate priority score
  {
    $addFields: {
      processing_priority: {
        $switch: {
          branches: [
            { 
              case: { $gte: ['$fullDocument.total_amount', 5000] }, 
              then: 'critical' 
            },
            { 
              case: { $gte: ['$fullDocument.total_amount', 2000] }, 
              then: 'high' 
            },
            { 
              case: { $gte: ['$fullDocument.total_amount', 1000] }, 
              then: 'medium' 
            }
          ],
          default: 'normal'
        }
      }
    }
  }
)
PROCESS WITH vip_order_processor;)SQL";

inline constexpr const char* kRealTimeOrderMetrics = R"SQL(CREATE MATERIALIZED CHANGE STREAM real_time_order_metrics ON orders
WATCH FOR (INSERT, UPDATE, DELETE)
WITH AGGREGATION (
  -- Group by time buckets for real-time metrics
  GROUP BY (
    DATE_TRUNC('minute', clusterTime, 5) as time_bucket,
    fullDocument.region as region
  )
  SELECT 
    time_bucket,
    region,
    
    -- Real-time KPIs
    COUNT(*) FILTER (WHERE operationType = 'insert') as new_orders,
    COUNT(*) FILTER (WHERE operationType = 'update' AND updateDescription.updatedFields.status = 'shipped') as orders_shipped,
    COUNT(*) FILTER (WHERE operationType = 'delete') as orders_cancelled,
    
    -- Revenue metrics
    SUM(fullDocument.total_amount) FILTER (WHERE operationType = 'insert') as new_revenue,
    AVG(fullDocument.total_amount) FILTER (WHERE operationType = 'insert') as avg_order_value,
    
    -- Customer metrics
    COUNT(DISTINCT fullDocument.user_id) as unique_customers,
    
    -- Performance indicators
    COUNT(*) / 5.0 as events_per_minute,
    CURRENT_TIMESTAMP as computed_at
    
  WINDOW (
    ORDER BY time_bucket
    ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
  )
  ADD (
    AVG(new_orders) OVER window as rolling_avg_orders,
    AVG(new_revenue) OVER window as rolling_avg_revenue,
    
    -- Trend detection
    CASE 
      WHEN new_orders > rolling_avg_orders * 1.2 THEN 'surge'
      WHEN new_orders < rolling_avg_orders * 0.8 THEN 'decline'
      ELSE 'stable'
    END as order_trend
  )
)
REFRESH EVERY 5 SECONDS
PROCESS WITH analytics_event_handler;)SQL";

inline constexpr const char* kCustomerBehaviorAnalysis = R"SQL(CREATE CHANGE STREAM customer_behavior_analysis ON orders
WATCH FOR (INSERT, UPDATE)
WHERE fullDocument.status IN ('completed', 'delivered')
WITH CUSTOMER_SEGMENTATION (
  -- Calculate RFM metrics from change events
  SELECT 
    fullDocument.user_id as customer_id,
    
    -- Recency calculation
    EXTRACT(DAYS FROM CURRENT_TIMESTAMP - MAX(fullDocument.order_date)) as recency_days,
    
    -- Frequency calculation  
    COUNT(*) FILTER (WHERE operationType = 'insert') as order_frequency,
    
    -- Monetary calculation
    SUM(fullDocument.total_amount) as total_monetary_value,
    AVG(fullDocument.total_amount) as avg_order_value,
    
    -- Advanced behavior metrics
    COUNT(DISTINCT fullDocument.product_categories) as category_diversity,
    AVG(ARRAY_LENGTH(fullDocument.items)) as avg_items_per_order,
    
    -- Engagement patterns
    COUNT(*) FILTER (WHERE EXTRACT(DOW FROM fullDocument.order_date) IN (0, 6)) / COUNT(*)::float as weekend_preference,
    
    -- RFM scoring
    NTILE(5) OVER (ORDER BY recency_days DESC) as recency_score,
    NTILE(5) OVER (ORDER BY order_frequency ASC) as frequency_score,  
    NTILE(5) OVER (ORDER BY total_monetary_value ASC) as monetary_score,
    
    -- Customer segment classification
    CASE 
      WHEN NTILE(5) OVER (ORDER BY recency_days DESC) >= 4 
           AND NTILE(5) OVER (ORDER BY order_frequency ASC) >= 4 
           AND NTILE(5) OVER (ORDER BY total_monetary_value ASC) >= 4 THEN 'champions'
      WHEN NTILE(5) OVER (ORDER BY recency_days DESC) >= 3 
           AND NTILE(5) OVER (ORDER BY order_frequency ASC) >= 3 
           AND NTILE(5) OVER (ORDER BY total_monetary_value ASC) >= 3 THEN 'loyal_customers'
      WHEN NTILE(5) OVER (ORDER BY recency_days DESC) >= 4 
           AND NTILE(5) OVER (ORDER BY order_frequency ASC) <= 2 THEN 'potential_loyalists'
      WHEN NTILE(5) OVER (ORDER BY recency_days DESC) >= 4 
           AND NTILE(5) OVER (ORDER BY order_frequency ASC) <= 1 THEN 'new_customers'
      WHEN NTILE(5) OVER (ORDER BY recency_days DESC) <= 2 
           AND NTILE(5) OVER (ORDER BY order_frequency ASC) >= 3 THEN 'at_risk'
      ELSE 'needs_attention'
    END as customer_segment,
    
    -- Predictive metrics
    total_monetary_value / GREATEST(recency_days / 30.0, 1) * order_frequency as predicted_clv,
    
    CURRENT_TIMESTAMP as analyzed_at
    
  GROUP BY fullDocument.user_id
  WINDOW customer_analysis AS (
    PARTITION BY fullDocument.user_id
    ORDER BY fullDocument.order_date
    RANGE BETWEEN INTERVAL '365 days' PRECEDING AND CURRENT ROW
  )
)
PROCESS WITH customer_segmentation_handler;)SQL";

inline constexpr const char* kInventorySyncStream = R"SQL(CREATE CHANGE STREAM inventory_sync_stream ON orders  
WATCH FOR (INSERT, UPDATE, DELETE)
WHERE 
  operationType = 'insert' 
  OR (operationType = 'update' AND updateDescription.updatedFields.status EXISTS)
  OR operationType = 'delete'
WITH EVENT_PROCESSING (
  CASE operationType
    WHEN 'insert' THEN 
      CALL reserve_inventory(fullDocument.items, fullDocument._id)
    WHEN 'update' THEN
      CASE updateDescription.updatedFields.status
        WHEN 'cancelled' THEN 
          CALL release_inventory_reservation(fullDocument._id)
        WHEN 'shipped' THEN 
          CALL confirm_inventory_consumption(fullDocument._id)
        WHEN 'returned' THEN 
          CALL restore_inventory(fullDocument.items, fullDocument._id)
      END
    WHEN 'delete' THEN
      CALL cleanup_inventory_reservations(documentKey._id)
  END
)
WITH OPTIONS (
  retry_policy = {
    max_attempts: 3,
    backoff_strategy: 'exponential',
    base_delay: '1 second'
  },
  dead_letter_queue = 'inventory_sync_dlq',
  processing_timeout = '30 seconds'
)
PROCESS WITH inventory_coordination_handler;)SQL";

inline constexpr const char* kOrderFulfillmentSaga = R"SQL(CREATE DISTRIBUTED SAGA order_fulfillment_saga 
TRIGGERED BY orders.insert
WHERE fullDocument.status = 'pending' AND fullDocument.total_amount > 0
WITH STEPS (
  -- Step 1: Payment processing
  {
    service: 'payment-service',
    action: 'process_payment',
    input: {
      order_id: NEW.documentKey._id,
      amount: NEW.fullDocument.total_amount,
      payment_method: NEW.fullDocument.payment_method
    },
    compensation: {
      service: 'payment-service', 
      action: 'refund_payment',
      input: { payment_id: '${payment_result.payment_id}' }
    },
    timeout: '30 seconds'
  },
  
  -- Step 2: Inventory reservation
  {
    service: 'inventory-service',
    action: 'reserve_products',
    input: {
      order_id: NEW.documentKey._id,
      items: NEW.fullDocument.items
    },
    compensation: {
      service: 'inventory-service',
      action: 'release_reservation', 
      input: { reservation_id: '${inventory_result.reservation_id}' }
    },
    timeout: '15 seconds'
  },
  
  -- Step 3: Shipping calculation
  {
    service: 'shipping-service',
    action: 'calculate_shipping',
    input: {
      order_id: NEW.documentKey._id,
      shipping_address: NEW.fullDocument.shipping_address,
      items: NEW.fullDocument.items
    },
    compensation: {
      service: 'shipping-service',
      action: 'cancel_shipping',
      input: { shipping_id: '${shipping_result.shipping_id}' }
    },
    timeout: '10 seconds'
  },
  
  -- Step 4: Order confirmation
  {
    service: 'notification-service',
    action: 'send_confirmation',
    input: {
      order_id: NEW.documentKey._id,
      customer_email: NEW.fullDocument.customer_email,
      order_details: NEW.fullDocument
    },
    timeout: '5 seconds'
  }
)
WITH SAGA_OPTIONS (
  max_retry_attempts = 3,
  compensation_timeout = '60 seconds',
  saga_timeout = '5 minutes'
);)SQL";

inline constexpr const char* kOrderEvents = R"SQL(CREATE EVENT STORE order_events
FROM CHANGE STREAM orders.*
WITH EVENT_MAPPING (
  event_type = CONCAT('Order.', TITLE_CASE(operationType)),
  aggregate_id = documentKey._id,
  aggregate_type = 'Order',
  event_data = {
    before: fullDocumentBeforeChange,
    after: fullDocument,
    changes: updateDescription
  },
  event_metadata = {
    timestamp: clusterTime,
    causation_id: correlation_id,
    correlation_id: trace_id,
    user_id: COALESCE(fullDocument.user_id, 'system'),
    version: aggregate_version + 1
  }
)
WITH PROJECTIONS (
  -- Order summary projection
  order_summary = {
    aggregate_id: aggregate_id,
    current_status: event_data.after.status,
    total_amount: event_data.after.total_amount,
    created_at: event_data.after.created_at,
    last_updated: event_metadata.timestamp,
    version: event_metadata.version
  },
  
  -- Customer order history projection  
  customer_orders = {
    customer_id: event_data.after.user_id,
    order_id: aggregate_id,
    order_amount: event_data.after.total_amount,
    order_date: event_data.after.created_at,
    status: event_data.after.status
  }
);)SQL";

inline constexpr const char* kComprehensiveMonitoring = R"SQL(CREATE CHANGE STREAM MONITOR comprehensive_monitoring
WITH METRICS (
  -- Stream health metrics
  stream_uptime,
  events_processed_per_second,
  processing_latency_p95,
  error_rate,
  resume_token_age,
  
  -- Business metrics
  high_value_orders_per_minute,
  average_processing_time,
  failed_event_count,
  
  -- System resource metrics
  memory_usage,
  cpu_utilization,
  network_throughput
)
WITH ALERTS (
  -- Critical alerts
  stream_disconnected = {
    condition: stream_uptime = 0,
    severity: 'critical',
    notification: ['pager', 'slack:#ops-critical']
  },
  
  high_error_rate = {
    condition: error_rate > 0.05 FOR 5 MINUTES,
    severity: 'high', 
    notification: ['email:ops-team@company.com', 'slack:#database-alerts']
  },
  
  processing_latency = {
    condition: processing_latency_p95 > 5000 FOR 3 MINUTES,
    severity: 'medium',
    notification: ['slack:#performance-alerts']
  },
  
  -- Business alerts
  revenue_drop = {
    condition: high_value_orders_per_minute < 10 FOR 10 MINUTES DURING BUSINESS_HOURS,
    severity: 'high',
    notification: ['email:business-ops@company.com']
  }
);)SQL";

inline constexpr const char* kAll[] = {kOrderProcessingStream, kHighValueOrderStream, kRealTimeOrderMetrics, kCustomerBehaviorAnalysis, kInventorySyncStream, kOrderFulfillmentSaga, kOrderEvents, kComprehensiveMonitoring};

}  // namespace eddy::sql::seed
