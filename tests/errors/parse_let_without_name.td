let = 3;
