values = [[1, 2], [3, 4]]
names = {'a': 1, "b": 2}
while True:
    if not values:
        break
    row = values.pop()
    total = sum(row) if row else 0
