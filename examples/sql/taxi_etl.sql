SELECT * FROM nyc_taxi
WHERE hour(pickup_at) BETWEEN 9 AND 17
