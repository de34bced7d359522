//! Seed requests of the last six kinds (list to speech), as `(request, topic)`.

pub const LIST: &[(&str, &str)] = &[
    (
        "List ideas for keeping houseplants alive while travelling",
        "houseplant care",
    ),
    (
        "List ways to make a long car journey fun for children",
        "car journeys",
    ),
    (
        "List things to check before buying a used bicycle",
        "used bicycles",
    ),
    ("List habits that help people sleep better", "better sleep"),
    (
        "List ideas for a rainy afternoon at home",
        "rainy afternoons",
    ),
    (
        "List questions to ask when viewing a rental flat",
        "flat viewings",
    ),
    (
        "List ways a small cafe can reduce food waste",
        "cafe food waste",
    ),
    (
        "List skills a new team leader should practise",
        "team leadership",
    ),
    (
        "List tips for writing a clear cover letter",
        "cover letters",
    ),
    (
        "List ways to save energy in a cold climate home",
        "home energy",
    ),
    ("List ideas for a school science week", "science week"),
    (
        "List things to pack for a weekend in the mountains",
        "mountain packing",
    ),
    ("List ways to welcome a new neighbour", "new neighbours"),
    (
        "List warm up exercises before a football match",
        "warm up exercises",
    ),
    ("List ideas for a low cost date night", "date night"),
    ("List ways to make meetings shorter", "shorter meetings"),
    (
        "List tips for learning to play the guitar as an adult",
        "adult guitar learning",
    ),
    (
        "List steps for preparing a bike for winter riding",
        "winter cycling",
    ),
    (
        "List ways to make a small bedroom feel larger",
        "small bedrooms",
    ),
    ("List ideas for reusing glass jars", "glass jars"),
    (
        "List things a first time dog owner should buy",
        "first dogs",
    ),
    ("List ways to stay focused while studying", "study focus"),
    ("List ideas for a community garden event", "garden events"),
    ("List safety tips for hiking alone", "solo hiking"),
    ("List ways to cut down on screen time", "screen time"),
    (
        "List ideas for a memorable retirement gift",
        "retirement gifts",
    ),
    ("List ways to keep a shared fridge tidy", "shared fridges"),
    ("List tips for a successful garage sale", "garage sales"),
    (
        "List ways to encourage children to read",
        "children reading",
    ),
    (
        "List things to consider when choosing a laptop",
        "laptop choice",
    ),
    (
        "List ways to make a presentation more engaging",
        "engaging presentations",
    ),
    ("List ideas for healthy snacks at work", "work snacks"),
    ("List tips for taking better phone photos", "phone photos"),
    (
        "List ways to prepare for a job interview",
        "interview preparation",
    ),
    (
        "List ideas for celebrating a friend who passed an exam",
        "exam celebrations",
    ),
    (
        "List ways to lower the cost of a family holiday",
        "holiday costs",
    ),
];

pub const COMPARE: &[(&str, &str)] = &[
    (
        "Compare renting a flat with buying a house for a young couple",
        "renting and buying",
    ),
    (
        "Compare learning to code with videos versus with books",
        "coding resources",
    ),
    (
        "Compare trains and planes for a trip of five hundred kilometres",
        "trains and planes",
    ),
    (
        "Compare paper notebooks with note taking apps",
        "note taking",
    ),
    (
        "Compare tea and coffee as a morning drink",
        "tea and coffee",
    ),
    (
        "Compare working in a startup with working in a large company",
        "startups and corporations",
    ),
    (
        "Compare electric bikes with ordinary bikes for commuting",
        "electric bikes",
    ),
    (
        "Compare cooking at home with ordering takeaway",
        "home cooking",
    ),
    (
        "Compare cats and dogs as pets for a busy worker",
        "cats and dogs",
    ),
    (
        "Compare running outdoors with running on a treadmill",
        "running options",
    ),
    (
        "Compare public schools and home schooling",
        "schooling choices",
    ),
    ("Compare e readers with printed books", "reading formats"),
    (
        "Compare solar power with wind power for a farm",
        "farm energy",
    ),
    ("Compare group study with studying alone", "study styles"),
    ("Compare a gas stove with an induction hob", "cooking hobs"),
    (
        "Compare spreadsheets with databases for tracking stock",
        "stock tracking",
    ),
    (
        "Compare city life with village life for retirees",
        "city and village life",
    ),
    (
        "Compare camping in a tent with staying in a cabin",
        "tent and cabin",
    ),
    ("Compare streaming music with buying albums", "music access"),
    (
        "Compare hand washing dishes with using a dishwasher",
        "dish washing",
    ),
    (
        "Compare learning a language in class with learning online",
        "language classes",
    ),
    (
        "Compare leasing a car with buying one outright",
        "car leasing",
    ),
    (
        "Compare open plan offices with private offices",
        "office layouts",
    ),
    (
        "Compare board games with video games for family evenings",
        "family games",
    ),
    (
        "Compare swimming with cycling as low impact exercise",
        "low impact exercise",
    ),
    (
        "Compare a savings account with a simple index fund",
        "saving options",
    ),
    ("Compare wooden toys with plastic toys", "toy materials"),
    (
        "Compare a road trip with a guided bus tour",
        "touring styles",
    ),
    (
        "Compare handwritten letters with emails for thank you notes",
        "thank you notes",
    ),
    (
        "Compare a standing desk with a regular desk",
        "desk choices",
    ),
    (
        "Compare baking bread by hand with using a bread machine",
        "bread making",
    ),
    (
        "Compare formal meetings with quick stand ups",
        "meeting styles",
    ),
    ("Compare city buses with trams", "city transport"),
    (
        "Compare a gap year with going straight to university",
        "gap years",
    ),
    (
        "Compare podcasts with audiobooks for a commute",
        "commute listening",
    ),
    (
        "Compare growing vegetables in pots with growing them in beds",
        "vegetable growing",
    ),
];

pub const ADVICE: &[(&str, &str)] = &[
    (
        "Give advice to a student who feels overwhelmed by deadlines",
        "deadline stress",
    ),
    (
        "Give advice to someone preparing their first public talk",
        "public speaking",
    ),
    (
        "Give advice to a new manager handling a conflict between two staff",
        "workplace conflict",
    ),
    (
        "Give advice to a parent whose child refuses vegetables",
        "picky eating",
    ),
    (
        "Give advice to a runner recovering from a minor knee strain",
        "knee recovery",
    ),
    (
        "Give advice to a freelancer who struggles to set prices",
        "freelance pricing",
    ),
    (
        "Give advice to someone moving to a country where they do not speak the language",
        "moving abroad",
    ),
    (
        "Give advice to a gardener whose tomatoes keep splitting",
        "splitting tomatoes",
    ),
    (
        "Give advice to a friend who wants to start saving money",
        "saving money",
    ),
    (
        "Give advice to a volunteer coordinator losing volunteers",
        "volunteer retention",
    ),
    (
        "Give advice to a writer stuck in the middle of a novel",
        "a stalled draft",
    ),
    (
        "Give advice to someone adopting an older rescue cat",
        "rescue cats",
    ),
    (
        "Give advice to a team that misses every sprint goal",
        "missed sprint goals",
    ),
    (
        "Give advice to a teenager choosing subjects for the final school years",
        "subject choices",
    ),
    (
        "Give advice to a small shop owner facing a new competitor",
        "new competition",
    ),
    (
        "Give advice to a nervous first time flyer",
        "fear of flying",
    ),
    (
        "Give advice to someone who wants to learn to swim as an adult",
        "adult swimming",
    ),
    (
        "Give advice to a remote worker who feels isolated",
        "remote isolation",
    ),
    (
        "Give advice to a couple planning their first joint budget",
        "joint budgets",
    ),
    (
        "Give advice to a new cyclist riding in heavy traffic",
        "traffic cycling",
    ),
    (
        "Give advice to a musician preparing for an audition",
        "auditions",
    ),
    (
        "Give advice to a coach whose team lost every match this season",
        "a losing season",
    ),
    (
        "Give advice to someone decluttering a crowded flat",
        "decluttering",
    ),
    (
        "Give advice to a student writing a first research essay",
        "research essays",
    ),
    (
        "Give advice to a host whose guests have different diets",
        "mixed diets",
    ),
    (
        "Give advice to a person returning to work after a long break",
        "returning to work",
    ),
    (
        "Give advice to a beginner photographer who takes blurry pictures",
        "blurry photos",
    ),
    (
        "Give advice to someone who keeps forgetting birthdays",
        "remembering birthdays",
    ),
    (
        "Give advice to a tenant whose landlord ignores repair requests",
        "ignored repairs",
    ),
    (
        "Give advice to a programmer preparing for a technical interview",
        "technical interviews",
    ),
    (
        "Give advice to a family choosing their first dog",
        "choosing a dog",
    ),
    (
        "Give advice to a manager writing annual reviews",
        "annual reviews",
    ),
    (
        "Give advice to someone who wants to cook more at home",
        "cooking at home",
    ),
    (
        "Give advice to a student sharing a flat for the first time",
        "sharing a flat",
    ),
    (
        "Give advice to a hiker caught in sudden fog",
        "hiking in fog",
    ),
    (
        "Give advice to a parent setting rules for video games",
        "video game rules",
    ),
];

pub const DESCRIBE: &[(&str, &str)] = &[
    (
        "Describe a busy market on a Saturday morning",
        "the Saturday market",
    ),
    (
        "Describe the view from the top of a tall hill at dawn",
        "the dawn view",
    ),
    (
        "Describe a cosy reading corner in a small flat",
        "the reading corner",
    ),
    (
        "Describe the inside of a working bakery before sunrise",
        "the early bakery",
    ),
    (
        "Describe a train station during a snowstorm",
        "the snowy station",
    ),
    ("Describe an old workshop full of tools", "the old workshop"),
    ("Describe a quiet beach in late autumn", "the autumn beach"),
    (
        "Describe a school playground at lunchtime",
        "the playground",
    ),
    ("Describe a night sky far from any city", "the night sky"),
    (
        "Describe a crowded concert just before the band appears",
        "the concert crowd",
    ),
    ("Describe a mountain hut during a storm", "the mountain hut"),
    (
        "Describe a greenhouse full of tropical plants",
        "the greenhouse",
    ),
    (
        "Describe the ideal home office for a writer",
        "the writing office",
    ),
    ("Describe a street food festival", "the food festival"),
    ("Describe a forest after heavy rain", "the rainy forest"),
    ("Describe a tiny island harbour", "the island harbour"),
    ("Describe the perfect picnic spot", "the picnic spot"),
    (
        "Describe a hospital ward at night from a nurse's view",
        "the night ward",
    ),
    (
        "Describe an abandoned railway line overgrown with flowers",
        "the old railway",
    ),
    (
        "Describe a family kitchen during a holiday feast",
        "the holiday kitchen",
    ),
    (
        "Describe a small town square on market day",
        "the town square",
    ),
    (
        "Describe a laboratory where students test rockets",
        "the rocket lab",
    ),
    ("Describe a river at sunrise", "the river at sunrise"),
    ("Describe a library reading room", "the reading room"),
    (
        "Describe a vineyard at harvest time",
        "the vineyard harvest",
    ),
    ("Describe a bicycle repair shop", "the repair shop"),
    (
        "Describe a winter garden covered in frost",
        "the frosty garden",
    ),
    (
        "Describe a fishing boat returning at dusk",
        "the fishing boat",
    ),
    (
        "Describe the first day of spring in a city park",
        "the spring park",
    ),
    ("Describe a cluttered artist studio", "the artist studio"),
    ("Describe a quiet temple courtyard", "the temple courtyard"),
    ("Describe a desert camp under the stars", "the desert camp"),
    (
        "Describe a bustling airport departure hall",
        "the departure hall",
    ),
    ("Describe a secondhand bookshop", "the secondhand bookshop"),
    ("Describe a mountain lake in summer", "the mountain lake"),
    ("Describe a family farm at milking time", "the farm morning"),
];

pub const PERSUADE: &[(&str, &str)] = &[
    (
        "Persuade my office to start a recycling scheme",
        "office recycling",
    ),
    (
        "Convince a friend to try volunteering at an animal shelter",
        "shelter volunteering",
    ),
    (
        "Persuade parents to support a longer school lunch break",
        "longer lunch breaks",
    ),
    (
        "Convince a small business to accept card payments",
        "card payments",
    ),
    (
        "Persuade the city to plant more street trees",
        "street trees",
    ),
    (
        "Convince a colleague to document their code",
        "code documentation",
    ),
    (
        "Persuade my family to eat dinner together more often",
        "family dinners",
    ),
    (
        "Convince readers to visit their local museum",
        "local museums",
    ),
    (
        "Persuade students to join the debate club",
        "the debate club",
    ),
    (
        "Convince a landlord to allow pets in the building",
        "pets in flats",
    ),
    (
        "Persuade a manager to fund a team training course",
        "team training",
    ),
    (
        "Convince neighbours to share garden tools",
        "shared garden tools",
    ),
    (
        "Persuade commuters to try cycling once a week",
        "weekly cycling",
    ),
    ("Convince a school to add coding lessons", "coding lessons"),
    (
        "Persuade a friend to take a proper holiday",
        "taking holidays",
    ),
    ("Convince shoppers to bring reusable bags", "reusable bags"),
    (
        "Persuade a town to restore its old cinema",
        "the old cinema",
    ),
    (
        "Convince a club to welcome beginners",
        "welcoming beginners",
    ),
    (
        "Persuade managers to allow flexible start times",
        "flexible start times",
    ),
    ("Convince teenagers to learn first aid", "first aid"),
    (
        "Persuade a cafe to offer smaller portions",
        "smaller portions",
    ),
    (
        "Convince people to repair clothes instead of replacing them",
        "clothes repair",
    ),
    (
        "Persuade a company to hold quieter meetings",
        "quieter meetings",
    ),
    ("Convince a school to start a choir", "a school choir"),
    ("Persuade a friend to back up their photos", "photo backups"),
    (
        "Convince a village to hold a summer fair",
        "the summer fair",
    ),
    ("Persuade drivers to slow down near schools", "school zones"),
    ("Convince a library to open on Sunday", "Sunday opening"),
    (
        "Persuade a team to write fewer but better tests",
        "better tests",
    ),
    (
        "Convince a friend to learn to cook one new dish a month",
        "monthly dishes",
    ),
    ("Persuade a council to build a skate park", "the skate park"),
    (
        "Convince office workers to take walking meetings",
        "walking meetings",
    ),
    (
        "Persuade parents to read aloud to their children",
        "reading aloud",
    ),
    (
        "Convince a business to use local suppliers",
        "local suppliers",
    ),
    (
        "Persuade students to start assignments early",
        "early starts",
    ),
    (
        "Convince a friend to join a community choir",
        "community singing",
    ),
];

pub const SPEECH: &[(&str, &str)] = &[
    (
        "Write a toast for my sister's graduation party",
        "the graduation",
    ),
    (
        "Write a short welcome speech for a charity run",
        "the charity run",
    ),
    (
        "Write a farewell speech for a colleague who is retiring",
        "the retirement",
    ),
    (
        "Write an opening speech for a school art exhibition",
        "the art exhibition",
    ),
    (
        "Write a thank you speech for a volunteer award",
        "the volunteer award",
    ),
    (
        "Write a short talk introducing a new team member",
        "the new team member",
    ),
    (
        "Write a speech to open a community garden",
        "the community garden",
    ),
    (
        "Write a toast for a friend's fortieth birthday",
        "the birthday",
    ),
    (
        "Write a short pep talk for a youth football team",
        "the football team",
    ),
    (
        "Write a welcome speech for first year university students",
        "the first year students",
    ),
    (
        "Write a speech announcing the winners of a baking contest",
        "the baking contest",
    ),
    (
        "Write a speech for the opening of a new library branch",
        "the library branch",
    ),
    (
        "Write a short talk thanking parents at a school concert",
        "the school concert",
    ),
    (
        "Write a speech for a company anniversary dinner",
        "the company anniversary",
    ),
    (
        "Write a toast for a couple celebrating their silver anniversary",
        "the anniversary couple",
    ),
    (
        "Write a speech encouraging people to vote in local elections",
        "local elections",
    ),
    (
        "Write a short talk to open a science fair",
        "the science fair",
    ),
    (
        "Write a speech to close a week long hackathon",
        "the hackathon",
    ),
    (
        "Write a welcome speech for a neighbourhood street party",
        "the street party",
    ),
    ("Write a speech honouring a long serving nurse", "the nurse"),
    (
        "Write a short talk launching a reading programme",
        "the reading programme",
    ),
    (
        "Write a speech for a team that just shipped a big release",
        "the big release",
    ),
    (
        "Write a speech to welcome visitors to a small museum",
        "the museum visit",
    ),
    (
        "Write a toast for a best friend moving abroad",
        "the move abroad",
    ),
    (
        "Write a speech opening a local film festival",
        "the film festival",
    ),
    (
        "Write a short talk thanking sponsors of a marathon",
        "the marathon sponsors",
    ),
    (
        "Write a speech for a school prize giving evening",
        "the prize evening",
    ),
    (
        "Write a welcome talk for a cooking class",
        "the cooking class",
    ),
    (
        "Write a speech celebrating a village bicentenary",
        "the bicentenary",
    ),
    (
        "Write a short talk to start a chess tournament",
        "the chess tournament",
    ),
    (
        "Write a speech thanking firefighters after a flood",
        "the firefighters",
    ),
    (
        "Write a speech to open a new playground",
        "the new playground",
    ),
    (
        "Write a toast for a retiring head teacher",
        "the head teacher",
    ),
    (
        "Write a speech welcoming delegates to a small conference",
        "the conference",
    ),
    (
        "Write a short talk to close a summer camp",
        "the summer camp",
    ),
    (
        "Write a speech for the launch of a community radio station",
        "the radio station",
    ),
];
