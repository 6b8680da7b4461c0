DROP TABLE devices;
DROP TABLE flavors;
DROP TABLE nodes;
DROP TABLE pod_managers;
