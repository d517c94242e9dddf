INSERT INTO books (title, author, published_year) VALUES
    ('A Wizard of Earthsea', 'Ursula K. Le Guin', 1968),
    ('The Left Hand of Darkness', 'Ursula K. Le Guin', 1969),
    ('Kindred', 'Octavia E. Butler', 1979);
