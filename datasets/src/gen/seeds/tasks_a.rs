//! Seed requests of the first six kinds (email to story), as `(request, topic)`.

pub const EMAIL: &[(&str, &str)] = &[
    (
        "Write an email to my landlord asking for the broken heater to be repaired",
        "the broken heater",
    ),
    (
        "Write an email to a colleague proposing to move our weekly meeting to the afternoon",
        "the weekly meeting",
    ),
    (
        "Write an email to a hiring manager following up on an interview I had last week",
        "the interview follow up",
    ),
    (
        "Write an email to my neighbours inviting them to a garden clean up on the weekend",
        "the garden clean up",
    ),
    (
        "Write an email to a supplier asking why our last delivery arrived late",
        "the late delivery",
    ),
    (
        "Write an email to a teacher explaining that my son will miss school for a family event",
        "the school absence",
    ),
    (
        "Write an email to my team announcing a new code review process",
        "the code review process",
    ),
    (
        "Write an email to a customer apologising for a billing mistake",
        "the billing mistake",
    ),
    (
        "Write an email to the city council asking for a pedestrian crossing near the park",
        "the pedestrian crossing",
    ),
    (
        "Write an email to a friend recommending a hiking trail in the mountains",
        "the hiking trail",
    ),
    (
        "Write an email to my manager requesting two days of remote work each week",
        "remote work",
    ),
    (
        "Write an email to a gym cancelling my membership politely",
        "the gym membership",
    ),
    (
        "Write an email to volunteers thanking them for running the book fair",
        "the book fair",
    ),
    (
        "Write an email to a client summarising the decisions from our kickoff meeting",
        "the kickoff decisions",
    ),
    (
        "Write an email to a professor asking for an extension on a term paper",
        "the paper extension",
    ),
    (
        "Write an email to a hotel asking whether they can store luggage after checkout",
        "luggage storage",
    ),
    (
        "Write an email to parents announcing the school choir concert",
        "the choir concert",
    ),
    (
        "Write an email to a software vendor reporting a bug in their invoicing tool",
        "the invoicing bug",
    ),
    (
        "Write an email to my cousin congratulating her on a new job",
        "the new job",
    ),
    (
        "Write an email to a local bakery asking if they cater small office parties",
        "office party catering",
    ),
    (
        "Write an email to the building manager about noise from the rooftop machinery",
        "the rooftop noise",
    ),
    (
        "Write an email to new hires welcoming them to the support team",
        "the support team welcome",
    ),
    (
        "Write an email to a mentor asking for advice on switching careers",
        "the career switch",
    ),
    (
        "Write an email to a library asking them to hold a rare book for me",
        "the rare book",
    ),
    (
        "Write an email to a conference organiser asking about accessibility on site",
        "conference accessibility",
    ),
    (
        "Write an email to a freelancer confirming the scope of a logo design job",
        "the logo design job",
    ),
    (
        "Write an email to the club members announcing a change of meeting venue",
        "the new meeting venue",
    ),
    (
        "Write an email to an airline asking about a missing suitcase",
        "the missing suitcase",
    ),
    (
        "Write an email to a partner team asking for help with a shared deadline",
        "the shared deadline",
    ),
    (
        "Write an email to a plumber asking for a quote to replace an old boiler",
        "the boiler replacement",
    ),
    (
        "Write an email to my tenants explaining the new recycling rules",
        "the recycling rules",
    ),
    (
        "Write an email to a charity offering to donate old office laptops",
        "the laptop donation",
    ),
    (
        "Write an email to a journalist declining an interview request kindly",
        "the interview request",
    ),
    (
        "Write an email to a course instructor asking how grades are calculated",
        "the grading scheme",
    ),
    (
        "Write an email to my bank disputing an unexpected service fee",
        "the service fee",
    ),
    (
        "Write an email to a photographer booking a session for a family portrait",
        "the family portrait",
    ),
];

pub const EXPLAIN: &[(&str, &str)] = &[
    (
        "Explain how a refrigerator keeps food cold",
        "refrigeration",
    ),
    (
        "Explain why the sky changes colour at sunset",
        "sunset colours",
    ),
    (
        "Explain how vaccines train the immune system",
        "vaccination",
    ),
    ("Explain what inflation is to a teenager", "inflation"),
    (
        "Explain how a bill becomes a law in a parliamentary system",
        "lawmaking",
    ),
    (
        "Explain how noise cancelling headphones work",
        "noise cancelling",
    ),
    ("Explain why bread dough rises", "rising dough"),
    (
        "Explain how compound interest grows savings over time",
        "compound interest",
    ),
    ("Explain what a database index does", "database indexes"),
    (
        "Explain how bees communicate the location of flowers",
        "bee communication",
    ),
    ("Explain why we have seasons on Earth", "the seasons"),
    (
        "Explain how a search engine ranks web pages",
        "search ranking",
    ),
    ("Explain what causes ocean tides", "ocean tides"),
    (
        "Explain how electric cars recover energy when braking",
        "regenerative braking",
    ),
    (
        "Explain the difference between weather and climate",
        "weather and climate",
    ),
    (
        "Explain how public key encryption keeps messages private",
        "public key encryption",
    ),
    (
        "Explain why some metals rust and others do not",
        "rusting metals",
    ),
    (
        "Explain how a heat pump warms a house in winter",
        "heat pumps",
    ),
    ("Explain what a credit score measures", "credit scores"),
    (
        "Explain how plants turn sunlight into food",
        "photosynthesis",
    ),
    (
        "Explain why airplanes leave white trails in the sky",
        "contrails",
    ),
    (
        "Explain how a compiler turns source code into a program",
        "compilers",
    ),
    (
        "Explain what supply and demand mean for the price of coffee",
        "coffee prices",
    ),
    (
        "Explain how earthquakes are measured",
        "earthquake measurement",
    ),
    ("Explain why sleep matters for memory", "sleep and memory"),
    (
        "Explain how a bicycle gear system makes hills easier",
        "bicycle gears",
    ),
    ("Explain what a carbon footprint is", "carbon footprints"),
    (
        "Explain how version control helps a team of programmers",
        "version control",
    ),
    ("Explain why ice floats on water", "floating ice"),
    (
        "Explain how solar panels produce electricity",
        "solar panels",
    ),
    (
        "Explain what an election poll can and cannot tell us",
        "election polls",
    ),
    (
        "Explain how the heart pumps blood through the body",
        "the heart",
    ),
    ("Explain why cats purr", "purring cats"),
    (
        "Explain how a touch screen senses a finger",
        "touch screens",
    ),
    (
        "Explain what a museum curator does all day",
        "museum curators",
    ),
    (
        "Explain how recycling paper saves resources",
        "paper recycling",
    ),
];

pub const PLAN: &[(&str, &str)] = &[
    (
        "Plan a three day trip to a coastal town for a family with two young children",
        "the coastal trip",
    ),
    (
        "Plan a study schedule for someone preparing for a driving theory test",
        "the theory test",
    ),
    (
        "Plan a small wedding reception in a backyard",
        "the backyard reception",
    ),
    (
        "Plan the first week of onboarding for a junior data analyst",
        "analyst onboarding",
    ),
    (
        "Plan a weekly menu for a vegetarian student on a tight budget",
        "the vegetarian menu",
    ),
    (
        "Plan a community fundraiser for a new playground",
        "the playground fundraiser",
    ),
    (
        "Plan a garden layout for a small sunny balcony",
        "the balcony garden",
    ),
    (
        "Plan a move to a new apartment across town",
        "the apartment move",
    ),
    (
        "Plan a training routine for a first five kilometre run",
        "the first run",
    ),
    (
        "Plan a product launch for a handmade soap shop",
        "the soap launch",
    ),
    (
        "Plan a neighbourhood book club for the coming year",
        "the book club",
    ),
    (
        "Plan a surprise birthday party for a retired teacher",
        "the surprise party",
    ),
    (
        "Plan a spring cleaning day for a shared student house",
        "spring cleaning",
    ),
    (
        "Plan a migration of a small company website to a new host",
        "the website migration",
    ),
    (
        "Plan a weekend workshop that teaches basic bicycle repair",
        "the repair workshop",
    ),
    (
        "Plan a reading challenge for a primary school class",
        "the reading challenge",
    ),
    (
        "Plan a team offsite focused on improving communication",
        "the team offsite",
    ),
    (
        "Plan a budget for a first year of university",
        "the student budget",
    ),
    (
        "Plan a photography walk through an old city centre",
        "the photography walk",
    ),
    (
        "Plan a week of healthy packed lunches for office workers",
        "packed lunches",
    ),
    (
        "Plan a volunteer rota for a food bank during the holidays",
        "the volunteer rota",
    ),
    (
        "Plan a beginner course in home bread baking",
        "the baking course",
    ),
    (
        "Plan a renovation of a tired kitchen on a modest budget",
        "the kitchen renovation",
    ),
    (
        "Plan a quiet retreat day for a stressed out project team",
        "the retreat day",
    ),
    (
        "Plan a science fair project about plant growth",
        "the plant project",
    ),
    (
        "Plan a podcast season about local history",
        "the history podcast",
    ),
    (
        "Plan an emergency kit for a household in a flood zone",
        "the emergency kit",
    ),
    (
        "Plan a daily routine for working from home with a toddler",
        "the home routine",
    ),
    (
        "Plan a cycling tour along a river valley",
        "the cycling tour",
    ),
    (
        "Plan a charity quiz night at a village hall",
        "the quiz night",
    ),
    (
        "Plan a smooth handover before going on parental leave",
        "the leave handover",
    ),
    ("Plan the layout of a small home office", "the home office"),
    (
        "Plan a camping weekend for first time campers",
        "the camping weekend",
    ),
    (
        "Plan a language learning routine for a busy nurse",
        "language learning",
    ),
    (
        "Plan a cleanup of an overgrown allotment plot",
        "the allotment cleanup",
    ),
    (
        "Plan an open day for a small animal shelter",
        "the shelter open day",
    ),
];

pub const SUMMARISE: &[(&str, &str)] = &[
    ("Summarise this note for a busy reader: The town library will close for repairs during the spring. Books can be returned at the sports centre instead. The children's reading hour moves to the community hall until the work ends.", "the library repairs"),
    ("Summarise this message: Our quarterly sales rose slightly but costs rose faster. The board wants a plan to reduce shipping expenses. Each regional lead must present ideas at the next meeting.", "the quarterly results"),
    ("Summarise the following update: The new bus route connects the hospital with the train station. Buses run every twenty minutes on weekdays. Weekend service starts next month after driver training.", "the new bus route"),
    ("Summarise this paragraph: Urban beekeeping has grown popular among rooftop gardeners. Bees help pollinate city plants and produce local honey. Keepers must register their hives and inspect them regularly.", "urban beekeeping"),
    ("Summarise this notice: The office kitchen will get a new coffee machine. Staff are asked to clean their own cups. A rota for wiping the counters will be posted on the fridge.", "the office kitchen"),
    ("Summarise this report: Volunteers planted hundreds of trees along the river this autumn. Early surveys show more birds nesting in the area. The project hopes to extend the planting next year.", "the river planting"),
    ("Summarise this text: Remote teams often struggle with unclear priorities. Short written plans and regular check ins help. Leaders should also protect time for focused work.", "remote teamwork"),
    ("Summarise the following for a newsletter: The robotics club won second place at the regional contest. Their robot sorted coloured blocks faster than most rivals. The club now seeks sponsors for the national final.", "the robotics club"),
    ("Summarise this feedback: Customers like the new app design but find checkout slow. Several asked for saved payment options. Support tickets about login errors dropped after the update.", "the app feedback"),
    ("Summarise this announcement: The museum opens a new hall about ancient trade routes. Visitors can handle replica goods and maps. Guided tours run each afternoon for school groups.", "the museum hall"),
    ("Summarise this memo: The warehouse will switch to electric forklifts over the summer. Drivers will receive safety training. Charging stations are being installed near the loading bays.", "the electric forklifts"),
    ("Summarise this story outline: A young baker inherits a failing shop. She wins back customers with recipes from her grandmother. A rival chain tries to buy the shop but the town rallies behind her.", "the bakery story"),
    ("Summarise these meeting notes: The team agreed to release the update on Thursday. Testing found two minor bugs that are now fixed. Marketing will prepare a short video for the launch.", "the update release"),
    ("Summarise this description: The hiking trail climbs gently through pine forest. Halfway up there is a lake suitable for a picnic. The final section is steep and rocky so good boots are needed.", "the hiking trail"),
    ("Summarise this research note: Students who took short breaks while studying remembered more material. The breaks worked best when spent walking. Long breaks spent on phones showed no benefit.", "study breaks"),
    ("Summarise this article extract: Community fridges let people share surplus food. Volunteers check the fridges daily for safety. The idea has reduced waste in several neighbourhoods.", "community fridges"),
    ("Summarise this policy: Employees may work flexible hours between seven and seven. Core meeting time is from ten until three. Managers must approve changes to regular schedules.", "flexible hours"),
    ("Summarise this review: The hotel had friendly staff and a quiet garden. Rooms were clean but the beds were firm. Breakfast was generous though the coffee was weak.", "the hotel stay"),
    ("Summarise this plan: The council wants to pedestrianise the market square. Delivery vans would be allowed early in the morning. Shop owners will be consulted before a final decision.", "the market square"),
    ("Summarise this case: A small farm switched to drip irrigation. Water use fell noticeably during the dry season. Yields stayed steady and the farmer plans to expand the system.", "drip irrigation"),
    ("Summarise this bulletin: The swimming pool will host free lessons for adults. Sessions run on Tuesday and Thursday evenings. Places are limited so early booking is advised.", "the swimming lessons"),
    ("Summarise this historical note: The old lighthouse guided ships for over a century. It was replaced by an automatic beacon. Today it houses a small maritime museum.", "the old lighthouse"),
    ("Summarise this project status: The mobile app is nearly feature complete. Accessibility testing is behind schedule. The team asks for one more week before the beta.", "the app project"),
    ("Summarise this complaint: The customer ordered a blue sofa but received a grey one. The return process was confusing. They want a refund and an apology.", "the sofa complaint"),
    ("Summarise this guide: Composting needs a mix of green and brown material. The heap should be turned every few weeks. Meat and dairy should be kept out to avoid pests.", "composting"),
    ("Summarise this proposal: The school wants to start a vegetable garden. Pupils would grow food for the canteen. Parents are asked to help build raised beds.", "the school garden"),
    ("Summarise this travel advice: Trains in the region are reliable but crowded at rush hour. Buying tickets online is cheaper. Many stations have secure bicycle parking.", "regional trains"),
    ("Summarise this staff notice: The annual safety drill happens next Wednesday morning. Everyone must leave by the nearest exit. Wardens will count people at the assembly point.", "the safety drill"),
    ("Summarise this product description: The lamp dims automatically as evening falls. It charges by cable and lasts for several nights. The shade is made from recycled paper.", "the smart lamp"),
    ("Summarise this science snippet: Octopuses can change colour in a fraction of a second. They use special skin cells controlled by muscles. Scientists think this helps both hiding and signalling.", "octopus colour"),
    ("Summarise this event recap: The street festival drew large crowds despite the rain. Local bands played until late. Organisers thanked the volunteers who handled the cleanup.", "the street festival"),
    ("Summarise this instruction: Before painting a wall you should fill cracks and sand the surface. A primer helps the paint stick. Two thin coats look better than one thick coat.", "wall painting"),
    ("Summarise this policy change: The cafe will stop using single use cups. Customers can borrow a reusable cup for a small deposit. The deposit is returned when the cup comes back.", "reusable cups"),
    ("Summarise this interview: The chef said she learned to cook from her father. She values seasonal produce above everything. Her next goal is to open a cooking school.", "the chef interview"),
    ("Summarise this finding: People who cycle to work report better moods. The effect was strongest for trips longer than fifteen minutes. Safe bike lanes made people more likely to start.", "cycling to work"),
    ("Summarise this story: An old clockmaker repairs a clock that has not ticked in decades. Inside he finds a letter from his late teacher. The letter convinces him to take on an apprentice.", "the clockmaker"),
];

pub const CODE: &[(&str, &str)] = &[
    (
        "Describe how to write a function that checks whether a word is a palindrome",
        "palindrome checking",
    ),
    (
        "Explain how to write a program that counts the words in a text file",
        "word counting",
    ),
    (
        "Describe how to build a simple to do list command line tool",
        "the to do tool",
    ),
    (
        "Explain how to reverse a linked list step by step",
        "linked list reversal",
    ),
    (
        "Describe how to validate an email address in a sign up form",
        "email validation",
    ),
    (
        "Explain how to read a CSV file and compute the average of one column",
        "column averages",
    ),
    (
        "Describe how to write a unit test for a function that adds two numbers",
        "unit testing",
    ),
    (
        "Explain how to find duplicate entries in a list of names",
        "duplicate detection",
    ),
    (
        "Describe how to cache the results of a slow function",
        "result caching",
    ),
    (
        "Explain how to design a small REST endpoint that returns a user profile",
        "the profile endpoint",
    ),
    (
        "Describe how to sort a list of books by author and then by title",
        "book sorting",
    ),
    (
        "Explain how to handle errors when opening a file that might not exist",
        "file errors",
    ),
    (
        "Describe how to write a binary search over a sorted array",
        "binary search",
    ),
    (
        "Explain how to debounce a search box in a web page",
        "debouncing",
    ),
    (
        "Describe how to store passwords safely in a web application",
        "password storage",
    ),
    (
        "Explain how to write a script that renames photos by date",
        "photo renaming",
    ),
    (
        "Describe how to measure how long a piece of code takes to run",
        "timing code",
    ),
    (
        "Explain how to paginate results from a database query",
        "pagination",
    ),
    (
        "Describe how to write a simple tokenizer for arithmetic expressions",
        "the tokenizer",
    ),
    (
        "Explain how to detect a cycle in a directed graph",
        "cycle detection",
    ),
    (
        "Describe how to set up logging in a small web service",
        "service logging",
    ),
    (
        "Explain how to merge two sorted lists into one sorted list",
        "list merging",
    ),
    (
        "Describe how to build a command that converts temperatures between units",
        "temperature conversion",
    ),
    (
        "Explain how to write a retry loop for flaky network calls",
        "retry loops",
    ),
    (
        "Describe how to structure a project with separate modules for data and logic",
        "project structure",
    ),
    (
        "Explain how to check that two strings are anagrams",
        "anagram checking",
    ),
    (
        "Describe how to write a program that simulates rolling dice",
        "dice simulation",
    ),
    (
        "Explain how to parse command line arguments in a small tool",
        "argument parsing",
    ),
    (
        "Describe how to implement a stack using an array",
        "array stacks",
    ),
    (
        "Explain how to remove accents from text before searching",
        "accent folding",
    ),
    (
        "Describe how to profile memory use in a long running program",
        "memory profiling",
    ),
    (
        "Explain how to write a function that flattens nested lists",
        "list flattening",
    ),
    (
        "Describe how to add input validation to a settings form",
        "form validation",
    ),
    (
        "Explain how to schedule a task to run every night",
        "nightly tasks",
    ),
    (
        "Describe how to compare two text files line by line",
        "file comparison",
    ),
    (
        "Explain how to build a tiny key value store that saves to disk",
        "the key value store",
    ),
];

pub const STORY: &[(&str, &str)] = &[
    (
        "Write a short story about a lighthouse keeper who finds a message in a bottle",
        "the lighthouse keeper",
    ),
    (
        "Write a short story about a robot learning to paint",
        "the painting robot",
    ),
    (
        "Write a short story about two rival bakers who must work together",
        "the rival bakers",
    ),
    (
        "Write a short story about a child who can talk to trees",
        "the talking trees",
    ),
    (
        "Write a short story about a lost dog finding its way home through a city",
        "the lost dog",
    ),
    (
        "Write a short story about a train that never stops at the same station twice",
        "the strange train",
    ),
    (
        "Write a short story about an astronaut who misses the smell of rain",
        "the homesick astronaut",
    ),
    (
        "Write a short story about a village that wakes up with no colours",
        "the grey village",
    ),
    (
        "Write a short story about a librarian who guards a secret room",
        "the secret room",
    ),
    (
        "Write a short story about a musician who loses her hearing",
        "the musician",
    ),
    (
        "Write a short story about a fox and a crow sharing a winter",
        "the fox and the crow",
    ),
    (
        "Write a short story about a chess game that lasts forty years",
        "the long chess game",
    ),
    (
        "Write a short story about a map that redraws itself every night",
        "the changing map",
    ),
    (
        "Write a short story about a grandmother teaching her grandson to fish",
        "the fishing lesson",
    ),
    (
        "Write a short story about a town where everyone forgets one word each day",
        "the forgotten words",
    ),
    (
        "Write a short story about a shy dragon who runs a tea shop",
        "the tea shop dragon",
    ),
    (
        "Write a short story about a detective who solves cases by smell",
        "the detective",
    ),
    (
        "Write a short story about the last bookshop on a busy street",
        "the last bookshop",
    ),
    (
        "Write a short story about a gardener who grows a glowing pumpkin",
        "the glowing pumpkin",
    ),
    (
        "Write a short story about a storm that brings a stranger to an island",
        "the stranger",
    ),
    (
        "Write a short story about a clock that runs backwards",
        "the backwards clock",
    ),
    (
        "Write a short story about a girl who builds a boat from old doors",
        "the door boat",
    ),
    (
        "Write a short story about a postman delivering letters to the moon",
        "the moon postman",
    ),
    (
        "Write a short story about twins who swap places for a day",
        "the twins",
    ),
    (
        "Write a short story about a snowman that wants to see summer",
        "the snowman",
    ),
    (
        "Write a short story about a painter who can only paint the future",
        "the future painter",
    ),
    (
        "Write a short story about a tiny mouse running a bakery at night",
        "the night bakery",
    ),
    (
        "Write a short story about a bridge that sings when people cross it",
        "the singing bridge",
    ),
    (
        "Write a short story about an old sailor teaching knots to children",
        "the old sailor",
    ),
    (
        "Write a short story about a kite that refuses to come down",
        "the kite",
    ),
    (
        "Write a short story about a city where it is always evening",
        "the evening city",
    ),
    (
        "Write a short story about a knight afraid of the dark",
        "the nervous knight",
    ),
    (
        "Write a short story about a violin found in an attic",
        "the attic violin",
    ),
    (
        "Write a short story about friends racing homemade carts down a hill",
        "the cart race",
    ),
    (
        "Write a short story about a whale that follows a ferry",
        "the whale",
    ),
    (
        "Write a short story about a cook who makes food that reveals memories",
        "the memory cook",
    ),
];
