mod object_store;
