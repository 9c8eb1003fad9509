int eddy_query_placeholder;
